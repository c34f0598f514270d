# Tagalog (tl). Magalang na «kayo/inyo»; maiikling pangungusap na madaling basahin sa telepono.

## Mga teksto sa pahina

nav-skip = Lumaktaw sa nilalaman
privacy-note = Pribado ang inyong mga sagot: ang organisasyon lamang ng taong humahawak ng inyong kaso ang makakakita ng mga ito.

## Pagtatasa sa sarili

sa-title = Pagtatasa sa Sarili
sa-intro = Makatutulong ang mga tanong na ito sa inyo at sa taong humahawak ng inyong kaso upang makita kung saan maayos ang inyong kalagayan at kung saan kayo maaaring mangailangan ng tulong. Walang tama o maling sagot. Sa bawat pangungusap, piliin kung gaano ito katotoo para sa inyo ngayon.
sa-submit = Ipadala ang aking mga sagot
sa-thanks = Salamat po! Naitala na ang inyong mga sagot.
sa-language = Wika
sa-expired = Hindi na magagamit ang pahinang ito: lipas na ito o nagamit na. Pakihingi ng panibago sa taong humahawak ng inyong kaso.
sa-required = Pakisagot ang lahat ng tanong bago ipadala.

## Sukatan ng sagot (0 hanggang 4)

sa-scale-0 = Hindi kahit kaunti
sa-scale-1 = Kaunti
sa-scale-2 = Medyo
sa-scale-3 = Halos lubos
sa-scale-4 = Lubos

## Mga pamagat ng bawat bahagi

sa-element-english = Ingles
sa-element-education = Pag-aaral
sa-element-economic = Trabaho at pera
sa-element-credentials = Mga kredensyal at dokumento
sa-element-health = Kalusugan at kapakanan
sa-element-civic = Pakikilahok sa komunidad
sa-element-navigation = Pagbiyahe at paghahanap ng serbisyo
sa-element-social = Mga kaibigan at pagiging bahagi ng komunidad

## Mga tanong

sa-q-english-1 = Naiintindihan ko sa Ingles ang guro ng aking anak o ang aking doktor.
sa-q-english-2 = Kaya kong sagutan sa Ingles ang isang simpleng pormularyo, gaya ng sa paaralan o klinika.
sa-q-english-3 = Kaya kong makipag-usap sa Ingles sa mga tao sa trabaho, sa tindahan o sa telepono.

sa-q-education-1 = Alam ko kung saan ako puwedeng kumuha ng mga klase para patuloy na matuto, gaya ng Ingles, diploma sa mataas na paaralan, kolehiyo o pagsasanay para sa trabaho.
sa-q-education-2 = Naiintindihan ko kung paano tumatakbo rito ang mga paaralan at kolehiyo.

sa-q-economic-1 = May trabaho ako, o alam ko kung paano maghanap ng trabahong bagay sa aking kakayahan.
sa-q-economic-2 = May sapat na pera ang aming sambahayan bawat buwan para sa upa, pagkain at mga bayarin.
sa-q-economic-3 = Kaya kong gumamit ng bangko o kooperatiba ng kredito para mag-ipon at magbayad ng mga bayarin.

sa-q-credentials-1 = Alam ko kung paano makakamit ang pagkilala rito sa aking mga diploma o lisensya mula sa ibang bansa.
sa-q-credentials-2 = Alam ko kung anong mga permiso o lisensya ang kailangan ko para sa trabahong gusto ko.
sa-q-credentials-3 = Alam ko kung saan makakakuha ng mapagkakatiwalaang tulong para sa aking mga papeles sa imigrasyon o pagkamamamayan.

sa-q-health-1 = May doktor o klinika akong mapupuntahan kapag ako ay may sakit.
sa-q-health-2 = May seguro ako sa kalusugan, o alam ko kung paano kumuha ng seguro o murang pagpapagamot.
sa-q-health-3 = Alam ko kung saan hihingi ng tulong kung matagal na akong nababalisa, nalulungkot o nag-aalala.

sa-q-civic-1 = Alam ko ang aking mga pangunahing karapatan sa bansang ito, halimbawa sa trabaho o sa pag-upa ng bahay.
sa-q-civic-2 = Nakikilahok ako sa aking komunidad, halimbawa sa mga pulong sa paaralan, sa pagboboluntaryo o sa mga samahan sa komunidad.

sa-q-navigation-1 = Alam ko kung paano bumiyahe sa aming lugar sakay ng bus, tren o sa iba pang paraan.
sa-q-navigation-2 = Kaya kong gumamit ng telepono o kompyuter para maghanap ng impormasyon, magpadala ng mensahe o sumagot ng mga pormularyo sa internet.
sa-q-navigation-3 = Alam ko kung saan hihingi ng tulong para sa pagkain, tirahan o mga benepisyo mula sa pamahalaan.

sa-q-social-1 = May mga tao akong malalapitan para humingi ng tulong kapag may problema ako.
sa-q-social-2 = May mga kaibigan o kapitbahay ako rito na madalas kong nakakasama.
sa-q-social-3 = Ramdam kong tanggap ako sa aking komunidad.
