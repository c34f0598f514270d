# English (en): the reference language. Every message here must exist in every other locale.
# No placeables are used; keep sentences short and plain, readable on a phone.

## Page and UI strings

nav-skip = Skip to content
privacy-note = Your answers are private: only your case worker's organization can see them.

## Self-assessment

sa-title = Self-assessment
sa-intro = These questions help you and your case worker see where things are going well and where you may want support. There are no right or wrong answers. For each sentence, choose how true it is for you today.
sa-submit = Send my answers
sa-thanks = Thank you! Your answers have been saved.
sa-language = Language
sa-expired = This link has expired or has already been used. Please ask your case worker for a new one.
sa-required = Please answer every question before you send.

## Answer scale (0 to 4), shared by every question

sa-scale-0 = Not at all
sa-scale-1 = A little
sa-scale-2 = Somewhat
sa-scale-3 = Mostly
sa-scale-4 = Completely

## Element headings

sa-element-english = English
sa-element-education = School and learning
sa-element-economic = Work and money
sa-element-credentials = Credentials and documents
sa-element-health = Health and well-being
sa-element-civic = Taking part in your community
sa-element-navigation = Getting around and finding services
sa-element-social = Friends and belonging

## Questions

sa-q-english-1 = I can understand my child's teacher or my doctor in English.
sa-q-english-2 = I can fill out a simple form in English, like one at a school or a clinic.
sa-q-english-3 = I can talk in English with people at work, in a store or on the phone.

sa-q-education-1 = I know where I can take classes to keep learning, like English, a high school diploma, college or job training.
sa-q-education-2 = I understand how schools and colleges work here.

sa-q-economic-1 = I have a job, or I know how to look for a job that fits my skills.
sa-q-economic-2 = My household has enough money each month for rent, food and bills.
sa-q-economic-3 = I can use a bank or credit union account to save money and pay bills.

sa-q-credentials-1 = I know how to get my diplomas or licenses from another country recognized here.
sa-q-credentials-2 = I know which permits or licenses I need for the work I want.
sa-q-credentials-3 = I know where to get trustworthy help with my immigration or citizenship papers.

sa-q-health-1 = I have a doctor or clinic I can go to when I am sick.
sa-q-health-2 = I have health insurance, or I know how to get insurance or low-cost care.
sa-q-health-3 = I know where to get help if I feel stressed, sad or worried for a long time.

sa-q-civic-1 = I know my basic rights in this country, for example at work or when renting a home.
sa-q-civic-2 = I take part in my community, for example in school meetings, volunteering or community groups.

sa-q-navigation-1 = I know how to get around my area by bus, train or other ways.
sa-q-navigation-2 = I can use a phone or computer to find information, send email or fill out forms online.
sa-q-navigation-3 = I know where to ask for help with food, housing or public benefits.

sa-q-social-1 = I have people I can ask for help when I have a problem.
sa-q-social-2 = I have friends or neighbors here that I spend time with.
sa-q-social-3 = I feel welcome in my community.
