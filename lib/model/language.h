/* Internal (model layer): the language a text is written in. */
#ifndef LV_MODEL_LANGUAGE_H
#define LV_MODEL_LANGUAGE_H

/* The primary language of a text: by script ("zh", "ja", "ko", "ru", "ar", "th", "hi", "el", "he"),
 * and for Latin script by function words and libexttextcat n-gram profiles ("en", "fr", "de", "es",
 * "it", "pt", "nl", "sv", "da", "nb", "pl", "cs", "tr", "id", "vi", "ro", "hu", "fi", "ca"); "en" when
 * unsure.  The string is static. */
const char *lv_language_detect(const char *text);

#endif
