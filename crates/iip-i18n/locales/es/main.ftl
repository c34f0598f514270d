# Español (es). Trato de «usted»; frases sencillas para leer en el teléfono.

## Textos de la página

nav-skip = Saltar al contenido
privacy-note = Sus respuestas son privadas: solo la organización de la persona que lleva su caso puede verlas.

## Autoevaluación

sa-title = Autoevaluación
sa-intro = Estas preguntas les ayudan a usted y a la persona que lleva su caso a ver en qué le va bien y en qué le gustaría recibir apoyo. No hay respuestas correctas ni incorrectas. Para cada frase, elija qué tan cierta es para usted hoy.
sa-submit = Enviar mis respuestas
sa-thanks = ¡Gracias! Sus respuestas se guardaron.
sa-language = Idioma
sa-expired = Este enlace venció o ya se usó. Pida un enlace nuevo a la persona que lleva su caso.
sa-required = Por favor, responda todas las preguntas antes de enviar.

## Escala de respuesta (0 a 4)

sa-scale-0 = Nada
sa-scale-1 = Un poco
sa-scale-2 = Más o menos
sa-scale-3 = Casi por completo
sa-scale-4 = Por completo

## Títulos de los elementos

sa-element-english = Inglés
sa-element-education = Estudios y aprendizaje
sa-element-economic = Trabajo y dinero
sa-element-credentials = Credenciales y documentos
sa-element-health = Salud y bienestar
sa-element-civic = Participación en la comunidad
sa-element-navigation = Moverse y encontrar servicios
sa-element-social = Amistades y sentido de pertenencia

## Preguntas

sa-q-english-1 = Puedo entender en inglés al maestro de mi hijo o a mi médico.
sa-q-english-2 = Puedo llenar en inglés un formulario sencillo, como uno de la escuela o de la clínica.
sa-q-english-3 = Puedo hablar en inglés con la gente en el trabajo, en una tienda o por teléfono.

sa-q-education-1 = Sé dónde puedo tomar clases para seguir aprendiendo, como inglés, un diploma de preparatoria, la universidad o capacitación para el trabajo.
sa-q-education-2 = Entiendo cómo funcionan aquí las escuelas y las universidades.

sa-q-economic-1 = Tengo trabajo, o sé cómo buscar un trabajo que vaya con mis habilidades.
sa-q-economic-2 = En mi hogar alcanza el dinero cada mes para la renta, la comida y las cuentas.
sa-q-economic-3 = Puedo usar una cuenta de banco o de cooperativa de crédito para ahorrar y pagar las cuentas.

sa-q-credentials-1 = Sé cómo lograr que aquí reconozcan mis diplomas o licencias de otro país.
sa-q-credentials-2 = Sé qué permisos o licencias necesito para el trabajo que quiero.
sa-q-credentials-3 = Sé dónde conseguir ayuda confiable con mis trámites de inmigración o de ciudadanía.

sa-q-health-1 = Tengo un médico o una clínica adonde puedo ir cuando me enfermo.
sa-q-health-2 = Tengo seguro médico, o sé cómo conseguir un seguro o atención médica de bajo costo.
sa-q-health-3 = Sé dónde pedir ayuda si siento estrés, tristeza o preocupación por mucho tiempo.

sa-q-civic-1 = Conozco mis derechos básicos en este país, por ejemplo en el trabajo o al rentar una vivienda.
sa-q-civic-2 = Participo en mi comunidad, por ejemplo en reuniones de la escuela, haciendo voluntariado o en grupos comunitarios.

sa-q-navigation-1 = Sé cómo moverme por mi zona en autobús, en tren o de otras formas.
sa-q-navigation-2 = Puedo usar un teléfono o una computadora para buscar información, enviar correos electrónicos o llenar formularios en línea.
sa-q-navigation-3 = Sé dónde pedir ayuda con la comida, la vivienda o los beneficios públicos.

sa-q-social-1 = Tengo personas a quienes puedo pedir ayuda cuando tengo un problema.
sa-q-social-2 = Aquí tengo amigos o vecinos con quienes paso tiempo.
sa-q-social-3 = Siento que me reciben bien en mi comunidad.
