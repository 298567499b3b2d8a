"""The texts members read about their matches, by locale and reason code.

A translation is one more entry in CATALOG. Keys are a reason code,
optionally ".group" for rooms of three or four, and for "differs" optionally
the dimension id, most specific first; "suggest.*" entries are the advice for
members nobody can meet. bridgechat.matching.reasons puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CATALOG", "language_name"]

# Keys: a reason code, optionally ".group" for rooms of three or four, and for
# "differs" optionally the dimension id, most specific first.
CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "again": "You both asked to meet again",
        "again.group": "Some of you asked to meet again",
        "prompt": "You both chose this prompt",
        "prompt.group": "You all chose this prompt",
        "prompt.text": "You both chose “{prompt}”",
        "prompt.text.group": "You all chose “{prompt}”",
        "language_buddy": "One of you speaks {language} fluently and the other is learning it",
        "language_buddy.group": "Some of you speak {language} fluently and some are learning it",
        "generations": "You are from different generations",
        "generations.group": "Your group spans different generations",
        "differs": "You gave different answers to “{label}”",
        "differs.group": "Your group gave different answers to “{label}”",
        "differs.age_band": "You are in different age groups",
        "differs.age_band.group": "Your group spans different age groups",
        "differs.origin": "You have different stories of where you come from",
        "differs.origin.group": "Your group has different stories of where you come from",
        "differs.area": "You live in different kinds of places",
        "differs.area.group": "Your group lives in different kinds of places",
        "differs.politics": "You lean differently in politics",
        "differs.politics.group": "Your group leans differently in politics",
        "stances": "You see this question differently",
        "stances.group": "Your group sees this question in different ways",
        "suggest.no_prompt": "Nobody waiting right now shares a prompt with you. "
                             "Try another prompt, such as “{prompt}”.",
        "suggest.no_prompt.none": "Nobody waiting right now shares a prompt with you. "
                                  "Try adding another prompt.",
        "suggest.no_language": "Nobody waiting right now speaks a language you chose. "
                               "If you also speak {language}, add it.",
        "suggest.no_language.none": "Nobody waiting right now speaks a language you chose. "
                                    "If you speak another language, add it.",
        "suggest.no_mode": "Others are waiting for your prompt, but chose {mode_words}. "
                           "You could choose that too.",
        "suggest.quiet": "Nobody else is waiting who can be matched with you right now. "
                         "You can keep waiting, or come back at a busier time.",
        "mode.bridge": "an ordinary conversation",
        "mode.language_buddy": "a language buddy",
        "mode.generations": "a conversation across generations",
        "size": "a group of {group}",
        "size.2": "a conversation for two",
    },
    "de": {
        "again": "Ihr wolltet euch beide wiedersehen",
        "again.group": "Einige von euch wollten sich wiedersehen",
        "prompt": "Ihr habt beide diese Frage gewählt",
        "prompt.group": "Ihr habt alle diese Frage gewählt",
        "prompt.text": "Ihr habt beide „{prompt}“ gewählt",
        "prompt.text.group": "Ihr habt alle „{prompt}“ gewählt",
        "language_buddy": "Eine Person von euch spricht {language} fließend, die andere lernt es",
        "language_buddy.group": "Einige von euch sprechen {language} fließend, andere lernen es",
        "generations": "Ihr gehört verschiedenen Generationen an",
        "generations.group": "Eure Gruppe umfasst verschiedene Generationen",
        "differs": "Ihr habt „{label}“ unterschiedlich beantwortet",
        "differs.group": "Eure Gruppe hat „{label}“ unterschiedlich beantwortet",
        "differs.age_band": "Ihr seid in verschiedenen Altersgruppen",
        "differs.age_band.group": "Eure Gruppe umfasst verschiedene Altersgruppen",
        "differs.origin": "Ihr habt verschiedene Geschichten, woher ihr kommt",
        "differs.origin.group": "Eure Gruppe hat verschiedene Geschichten, woher sie kommt",
        "differs.area": "Ihr wohnt in verschiedenen Arten von Orten",
        "differs.area.group": "Eure Gruppe wohnt in verschiedenen Arten von Orten",
        "differs.politics": "Ihr denkt politisch verschieden",
        "differs.politics.group": "Eure Gruppe denkt politisch verschieden",
        "stances": "Ihr seht diese Frage unterschiedlich",
        "stances.group": "Eure Gruppe sieht diese Frage auf verschiedene Weise",
        "suggest.no_prompt": "Gerade wartet niemand, der eine Frage mit dir teilt. Versuch "
                             "eine andere Frage, zum Beispiel „{prompt}“.",
        "suggest.no_prompt.none": "Gerade wartet niemand, der eine Frage mit dir teilt. Wähle "
                                  "noch eine Frage dazu.",
        "suggest.no_language": "Gerade wartet niemand, der eine deiner Sprachen spricht. "
                               "Wenn du auch {language} sprichst, füge es hinzu.",
        "suggest.no_language.none": "Gerade wartet niemand, der eine deiner Sprachen spricht. "
                                    "Wenn du noch eine Sprache sprichst, füge sie hinzu.",
        "suggest.no_mode": "Andere warten auf deine Frage, haben aber {mode_words} "
                           "gewählt. Das kannst du auch wählen.",
        "suggest.quiet": "Gerade wartet niemand sonst, mit dem du zusammengebracht "
                         "werden kannst. Du kannst weiter warten oder zu einer "
                         "belebteren Zeit wiederkommen.",
        "mode.bridge": "ein normales Gespräch",
        "mode.language_buddy": "einen Sprachpartner",
        "mode.generations": "ein Gespräch zwischen den Generationen",
        "size": "eine Gruppe von {group}",
        "size.2": "ein Gespräch zu zweit",
    },
    "fr": {
        "again": "Vous avez tous les deux demandé à vous revoir",
        "again.group": "Certains d’entre vous ont demandé à se revoir",
        "prompt": "Vous avez tous les deux choisi cette question",
        "prompt.group": "Vous avez tous choisi cette question",
        "prompt.text": "Vous avez tous les deux choisi « {prompt} »",
        "prompt.text.group": "Vous avez tous choisi « {prompt} »",
        "language_buddy": "L’un de vous parle couramment {language} et l’autre l’apprend",
        "language_buddy.group": "Certains d’entre vous parlent couramment {language} et "
                                "d’autres l’apprennent",
        "generations": "Vous êtes de générations différentes",
        "generations.group": "Votre groupe réunit plusieurs générations",
        "differs": "Vous avez répondu différemment à « {label} »",
        "differs.group": "Votre groupe a répondu différemment à « {label} »",
        "differs.age_band": "Vous êtes dans des tranches d’âge différentes",
        "differs.age_band.group": "Votre groupe réunit plusieurs tranches d’âge",
        "differs.origin": "Vous avez des histoires différentes sur vos origines",
        "differs.origin.group": "Votre groupe a des histoires différentes sur ses origines",
        "differs.area": "Vous vivez dans des endroits de types différents",
        "differs.area.group": "Votre groupe vit dans des endroits de types différents",
        "differs.politics": "Vous n’avez pas les mêmes idées politiques",
        "differs.politics.group": "Votre groupe n’a pas les mêmes idées politiques",
        "stances": "Vous voyez cette question différemment",
        "stances.group": "Votre groupe voit cette question de différentes façons",
        "suggest.no_prompt": "Personne qui attend en ce moment ne partage une question "
                             "avec vous. Essayez une autre question, par exemple « "
                             "{prompt} ».",
        "suggest.no_prompt.none": "Personne qui attend en ce moment ne partage une question "
                                  "avec vous. Essayez d’ajouter une autre question.",
        "suggest.no_language": "Personne qui attend en ce moment ne parle une de vos "
                               "langues. Si vous parlez aussi {language}, ajoutez-la.",
        "suggest.no_language.none": "Personne qui attend en ce moment ne parle une de vos "
                                    "langues. Si vous parlez une autre langue, ajoutez-la.",
        "suggest.no_mode": "D’autres attendent votre question, mais ont choisi "
                           "{mode_words}. Vous pourriez aussi le choisir.",
        "suggest.quiet": "Personne d’autre n’attend en ce moment avec qui vous "
                         "pourriez être mis en contact. Vous pouvez attendre encore, "
                         "ou revenir à un moment plus animé.",
        "mode.bridge": "une conversation ordinaire",
        "mode.language_buddy": "un binôme linguistique",
        "mode.generations": "une conversation entre générations",
        "size": "un groupe de {group}",
        "size.2": "une conversation à deux",
    },
    "es": {
        "again": "Los dos pedisteis volver a hablar",
        "again.group": "Algunos de vosotros pedisteis volver a hablar",
        "prompt": "Los dos elegisteis esta pregunta",
        "prompt.group": "Todos elegisteis esta pregunta",
        "prompt.text": "Los dos elegisteis «{prompt}»",
        "prompt.text.group": "Todos elegisteis «{prompt}»",
        "language_buddy": "Uno de vosotros habla {language} con soltura y el otro lo "
                          "está aprendiendo",
        "language_buddy.group": "Algunos habláis {language} con soltura y otros lo estáis "
                                "aprendiendo",
        "generations": "Sois de generaciones diferentes",
        "generations.group": "En vuestro grupo hay generaciones diferentes",
        "differs": "Respondisteis de forma diferente a «{label}»",
        "differs.group": "Vuestro grupo respondió de forma diferente a «{label}»",
        "differs.age_band": "Tenéis edades diferentes",
        "differs.age_band.group": "En vuestro grupo hay edades diferentes",
        "differs.origin": "Tenéis historias diferentes sobre de dónde venís",
        "differs.origin.group": "Vuestro grupo tiene historias diferentes sobre de dónde viene",
        "differs.area": "Vivís en lugares de tipo diferente",
        "differs.area.group": "Vuestro grupo vive en lugares de tipo diferente",
        "differs.politics": "Pensáis diferente en política",
        "differs.politics.group": "Vuestro grupo piensa diferente en política",
        "stances": "Veis esta pregunta de forma diferente",
        "stances.group": "Vuestro grupo ve esta pregunta de formas diferentes",
        "suggest.no_prompt": "Ahora nadie que espera comparte una pregunta contigo. Prueba "
                             "otra pregunta, por ejemplo «{prompt}».",
        "suggest.no_prompt.none": "Ahora nadie que espera comparte una pregunta contigo. Prueba "
                                  "a añadir otra pregunta.",
        "suggest.no_language": "Ahora nadie que espera habla uno de tus idiomas. Si también "
                               "hablas {language}, añádelo.",
        "suggest.no_language.none": "Ahora nadie que espera habla uno de tus idiomas. Si hablas "
                                    "otro idioma, añádelo.",
        "suggest.no_mode": "Otras personas esperan tu pregunta, pero eligieron "
                           "{mode_words}. Tú también podrías elegirlo.",
        "suggest.quiet": "Ahora no espera nadie más con quien ponerte en contacto. "
                         "Puedes seguir esperando o volver en un momento con más "
                         "gente.",
        "mode.bridge": "una conversación normal",
        "mode.language_buddy": "un compañero de idioma",
        "mode.generations": "una conversación entre generaciones",
        "size": "un grupo de {group}",
        "size.2": "una conversación de dos",
    },
    "sv": {
        "again": "Ni bad båda om att träffas igen",
        "again.group": "Några av er bad om att träffas igen",
        "prompt": "Ni valde båda den här frågan",
        "prompt.group": "Ni valde alla den här frågan",
        "prompt.text": "Ni valde båda ”{prompt}”",
        "prompt.text.group": "Ni valde alla ”{prompt}”",
        "language_buddy": "En av er talar {language} flytande och den andra lär sig det",
        "language_buddy.group": "Några av er talar {language} flytande och några lär sig det",
        "generations": "Ni är från olika generationer",
        "generations.group": "Er grupp har olika generationer",
        "differs": "Ni svarade olika på ”{label}”",
        "differs.group": "Er grupp svarade olika på ”{label}”",
        "differs.age_band": "Ni är i olika åldersgrupper",
        "differs.age_band.group": "Er grupp har olika åldersgrupper",
        "differs.origin": "Ni har olika historier om var ni kommer ifrån",
        "differs.origin.group": "Er grupp har olika historier om var ni kommer ifrån",
        "differs.area": "Ni bor på olika sorters platser",
        "differs.area.group": "Er grupp bor på olika sorters platser",
        "differs.politics": "Ni tänker olika om politik",
        "differs.politics.group": "Er grupp tänker olika om politik",
        "stances": "Ni ser olika på den här frågan",
        "stances.group": "Er grupp ser på den här frågan på olika sätt",
        "suggest.no_prompt": "Ingen som väntar just nu delar en fråga med dig. Prova en "
                             "annan fråga, till exempel ”{prompt}”.",
        "suggest.no_prompt.none": "Ingen som väntar just nu delar en fråga med dig. Prova att "
                                  "lägga till en fråga till.",
        "suggest.no_language": "Ingen som väntar just nu talar ett språk som du valde. Om du "
                               "också talar {language}, lägg till det.",
        "suggest.no_language.none": "Ingen som väntar just nu talar ett språk som du valde. Om du "
                                    "talar ett annat språk, lägg till det.",
        "suggest.no_mode": "Andra väntar på din fråga men valde {mode_words}. Du kan "
                           "också välja det.",
        "suggest.quiet": "Ingen annan som du kan kopplas ihop med väntar just nu. Du "
                         "kan fortsätta vänta eller komma tillbaka när fler är här.",
        "mode.bridge": "ett vanligt samtal",
        "mode.language_buddy": "en språkkompis",
        "mode.generations": "ett samtal mellan generationer",
        "size": "en grupp på {group}",
        "size.2": "ett samtal för två",
    },
    "pl": {
        "again": "Oboje chcieliście znowu porozmawiać",
        "again.group": "Niektórzy z was chcieli znowu porozmawiać",
        "prompt": "Oboje wybraliście to pytanie",
        "prompt.group": "Wszyscy wybraliście to pytanie",
        "prompt.text": "Oboje wybraliście „{prompt}”",
        "prompt.text.group": "Wszyscy wybraliście „{prompt}”",
        "language_buddy": "Jedno z was mówi płynnie w języku: {language}, a drugie się go uczy",
        "language_buddy.group": "Niektórzy z was mówią płynnie w języku: {language}, a inni "
                                "się go uczą",
        "generations": "Jesteście z różnych pokoleń",
        "generations.group": "W waszej grupie są różne pokolenia",
        "differs": "Różnie odpowiedzieliście na „{label}”",
        "differs.group": "Wasza grupa różnie odpowiedziała na „{label}”",
        "differs.age_band": "Jesteście w różnych grupach wiekowych",
        "differs.age_band.group": "W waszej grupie są różne grupy wiekowe",
        "differs.origin": "Macie różne historie o tym, skąd pochodzicie",
        "differs.origin.group": "Wasza grupa ma różne historie o tym, skąd pochodzi",
        "differs.area": "Mieszkacie w różnych rodzajach miejsc",
        "differs.area.group": "Wasza grupa mieszka w różnych rodzajach miejsc",
        "differs.politics": "Macie różne poglądy polityczne",
        "differs.politics.group": "Wasza grupa ma różne poglądy polityczne",
        "stances": "Różnie patrzycie na to pytanie",
        "stances.group": "Wasza grupa różnie patrzy na to pytanie",
        "suggest.no_prompt": "Nikt, kto teraz czeka, nie ma z tobą wspólnego pytania. "
                             "Spróbuj innego pytania, na przykład „{prompt}”.",
        "suggest.no_prompt.none": "Nikt, kto teraz czeka, nie ma z tobą wspólnego pytania. "
                                  "Spróbuj dodać kolejne pytanie.",
        "suggest.no_language": "Nikt, kto teraz czeka, nie mówi w żadnym z twoich języków. "
                               "Jeśli mówisz też w języku: {language}, dodaj go.",
        "suggest.no_language.none": "Nikt, kto teraz czeka, nie mówi w żadnym z twoich języków. "
                                    "Jeśli znasz inny język, dodaj go.",
        "suggest.no_mode": "Inni czekają na twoje pytanie, ale wybrali: {mode_words}. Ty "
                           "też możesz to wybrać.",
        "suggest.quiet": "Teraz nie czeka nikt inny, z kim można cię połączyć. Możesz "
                         "dalej czekać albo wrócić, gdy będzie więcej osób.",
        "mode.bridge": "zwykła rozmowa",
        "mode.language_buddy": "partner językowy",
        "mode.generations": "rozmowa między pokoleniami",
        "size": "grupa {group} osób",
        "size.2": "rozmowa we dwoje",
    },
    "uk": {
        "again": "Ви обоє хотіли поговорити знову",
        "again.group": "Дехто з вас хотів поговорити знову",
        "prompt": "Ви обоє вибрали це питання",
        "prompt.group": "Ви всі вибрали це питання",
        "prompt.text": "Ви обоє вибрали «{prompt}»",
        "prompt.text.group": "Ви всі вибрали «{prompt}»",
        "language_buddy": "Один із вас вільно говорить мовою {language}, а інший її вивчає",
        "language_buddy.group": "Дехто з вас вільно говорить мовою {language}, а дехто її вивчає",
        "generations": "Ви з різних поколінь",
        "generations.group": "У вашій групі різні покоління",
        "differs": "Ви по-різному відповіли на «{label}»",
        "differs.group": "Ваша група по-різному відповіла на «{label}»",
        "differs.age_band": "Ви в різних вікових групах",
        "differs.age_band.group": "У вашій групі різні вікові групи",
        "differs.origin": "У вас різні історії про те, звідки ви",
        "differs.origin.group": "У вашій групі різні історії про те, звідки ви",
        "differs.area": "Ви живете в різних місцях",
        "differs.area.group": "Ваша група живе в різних місцях",
        "differs.politics": "У вас різні політичні погляди",
        "differs.politics.group": "У вашій групі різні політичні погляди",
        "stances": "Ви по-різному бачите це питання",
        "stances.group": "Ваша група по-різному бачить це питання",
        "suggest.no_prompt": "Зараз ніхто з тих, хто чекає, не має з вами спільного "
                             "питання. Спробуйте інше питання, наприклад «{prompt}».",
        "suggest.no_prompt.none": "Зараз ніхто з тих, хто чекає, не має з вами спільного "
                                  "питання. Спробуйте додати ще одне питання.",
        "suggest.no_language": "Зараз ніхто з тих, хто чекає, не говорить жодною з ваших "
                               "мов. Якщо ви говорите також мовою {language}, додайте її.",
        "suggest.no_language.none": "Зараз ніхто з тих, хто чекає, не говорить жодною з ваших "
                                    "мов. Якщо ви знаєте іншу мову, додайте її.",
        "suggest.no_mode": "Інші чекають на ваше питання, але вибрали {mode_words}. Ви "
                           "теж можете це вибрати.",
        "suggest.quiet": "Зараз більше ніхто не чекає, з ким вас можна з’єднати. "
                         "Можете чекати далі або повернутися, коли людей буде більше.",
        "mode.bridge": "звичайну розмову",
        "mode.language_buddy": "мовного партнера",
        "mode.generations": "розмову між поколіннями",
        "size": "групу з {group}",
        "size.2": "розмову удвох",
    },
    "ar": {
        "again": "طلبتما كلاكما أن تلتقيا مرة أخرى",
        "again.group": "طلب بعضكم أن تلتقوا مرة أخرى",
        "prompt": "اخترتما كلاكما هذا السؤال",
        "prompt.group": "اخترتم جميعًا هذا السؤال",
        "prompt.text": "اخترتما كلاكما «{prompt}»",
        "prompt.text.group": "اخترتم جميعًا «{prompt}»",
        "language_buddy": "أحدكما يتحدث {language} بطلاقة والآخر يتعلمها",
        "language_buddy.group": "بعضكم يتحدث {language} بطلاقة وبعضكم يتعلمها",
        "generations": "أنتما من جيلين مختلفين",
        "generations.group": "في مجموعتكم أجيال مختلفة",
        "differs": "أجبتما بشكل مختلف عن «{label}»",
        "differs.group": "أجابت مجموعتكم بشكل مختلف عن «{label}»",
        "differs.age_band": "أنتما من فئتين عمريتين مختلفتين",
        "differs.age_band.group": "في مجموعتكم فئات عمرية مختلفة",
        "differs.origin": "لكل منكما قصة مختلفة عن المكان الذي جاء منه",
        "differs.origin.group": "لمجموعتكم قصص مختلفة عن الأماكن التي جاءت منها",
        "differs.area": "تعيشان في نوعين مختلفين من الأماكن",
        "differs.area.group": "تعيش مجموعتكم في أنواع مختلفة من الأماكن",
        "differs.politics": "لكل منكما ميول سياسية مختلفة",
        "differs.politics.group": "في مجموعتكم ميول سياسية مختلفة",
        "stances": "تنظران إلى هذا السؤال بشكل مختلف",
        "stances.group": "تنظر مجموعتكم إلى هذا السؤال بطرق مختلفة",
        "suggest.no_prompt": "لا أحد من المنتظرين الآن يشاركك سؤالًا. جرّب سؤالًا آخر، مثل "
                             "«{prompt}».",
        "suggest.no_prompt.none": "لا أحد من المنتظرين الآن يشاركك سؤالًا. جرّب أن تضيف سؤالًا "
                                  "آخر.",
        "suggest.no_language": "لا أحد من المنتظرين الآن يتحدث لغة اخترتها. إذا كنت تتحدث "
                               "{language} أيضًا، فأضفها.",
        "suggest.no_language.none": "لا أحد من المنتظرين الآن يتحدث لغة اخترتها. إذا كنت تتحدث "
                                    "لغة أخرى، فأضفها.",
        "suggest.no_mode": "هناك من ينتظر سؤالك، لكنهم اختاروا {mode_words}. يمكنك أن "
                           "تختار ذلك أيضًا.",
        "suggest.quiet": "لا أحد غيرك ينتظر الآن ممن يمكن جمعك بهم. يمكنك أن تواصل "
                         "الانتظار، أو أن تعود في وقت يكون فيه عدد أكبر من الناس.",
        "mode.bridge": "محادثة عادية",
        "mode.language_buddy": "شريك لغة",
        "mode.generations": "محادثة بين الأجيال",
        "size": "مجموعة من {group}",
        "size.2": "محادثة بين شخصين",
    },
}

_LANGUAGES = {
    "ar": "Arabic", "bn": "Bengali", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fa": "Persian", "fr": "French", "hi": "Hindi", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish", "ps": "Pashto",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "so": "Somali", "sv": "Swedish",
    "ti": "Tigrinya", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "zh": "Chinese",
}


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code, or the code itself."""
    return _LANGUAGES.get(code, code)
