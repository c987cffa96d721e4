/* msg.h: the learner's language for the exercises' programs. */
#ifndef EXERCISE_MSG_H
#define EXERCISE_MSG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every sentence of the check chain (check.h) and of the package's migration tool
 * (exercises/migrate) exists in both languages: MSG("English", "русский")
 * (a pair; MSG_PAIR for a static initializer), SAY(...) (printed at once; SAY_TO(stream, ...)) and
 * MSGF(buf, ...) (formatted into buf). The learner's language is chosen once: ALCH_LANG=ru, or with
 * ALCH_LANG unset a LC_ALL / LC_MESSAGES / LANG (the first one set) starting with "ru", prints
 * Russian; anything else English. The markers the tutor reads ("ok: ", "FAIL: ") stay as they are.
 * tools/msgcheck checks every pair: both sentences there, none empty, the same printf placeholders
 * in the same order. */
typedef struct check_msg {
    const char *en, *ru;
} check_msg;
#define MSG(en, ru) ((check_msg){(en), (ru)})
#define MSG_PAIR(en, ru)                                                                           \
    {                                                                                              \
        (en), (ru)                                                                                 \
    } /* the same, for a static initializer */
#define NO_MSG ((check_msg){NULL, NULL})
#define SAY(en, ru, ...) printf(check_ru() ? (ru) : (en), __VA_ARGS__)
#define SAY_TO(stream, en, ru, ...) fprintf((stream), check_ru() ? (ru) : (en), __VA_ARGS__)
#define MSGF(buf, en, ru, ...)                                                                     \
    (snprintf((buf), sizeof(buf), check_ru() ? (ru) : (en), __VA_ARGS__), MSG((buf), (buf)))

static int check_lang = -1; /* 1: Russian, 0: English, -1: not read yet */

static inline bool check_ru(void)
{
    if (check_lang < 0) {
        const char *lang = getenv("ALCH_LANG");
        if (!lang || !*lang) {
            const char *names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
            for (size_t i = 0; i < 3 && (!lang || !*lang); i++)
                lang = getenv(names[i]);
        }
        check_lang = lang && strncmp(lang, "ru", 2) == 0;
    }
    return check_lang == 1;
}

static inline const char *check_text(check_msg m)
{
    return check_ru() && m.ru ? m.ru : m.en;
}

#endif
