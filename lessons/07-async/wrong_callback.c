/* Lesson 07: a callback written for another kind of answer must not compile. CTest compiles
 * this file with -Werror=incompatible-pointer-types and checks that the compiler refuses it
 * (test lesson.07.wrong_callback). */
#include <alch/alch.h>

//! [wrong]
/* written for one object: an alch_session_object_cb ... */
static void on_item(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    (void)status, (void)obj, (void)err, (void)data;
    alch_session_close(s);
}

/* ... given to the call that answers with a list of objects */
int ask_items(alch_session *s, alch_stmt *st)
{
    return alch_session_scalars_async(s, st, on_item, NULL);
}
//! [wrong]
