/* Lesson 09, program 4: the database URL from the environment, or from a .env file.
 *
 * The seed leaves `url='...'` in the code. A program should read it from its environment:
 * ALCH_DATABASE_URL, or, when that is not set, a line ALCH_DATABASE_URL=... in a .env file
 * next to it (the file stays out of git: it holds a password). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alch/alch.h>

//! [config]
/* The URL from the environment, else from the .env file at path; NULL when neither has it.
 * The caller frees the result. */
static char *config_database_url(const char *path)
{
    const char *env = getenv("ALCH_DATABASE_URL");
    if (env && *env)
        return strdup(env);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    char *url = NULL;
    while (!url && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = "ALCH_DATABASE_URL=";
        if (strncmp(line, key, strlen(key)) == 0)
            url = strdup(line + strlen(key));
    }
    fclose(f);
    return url;
}
//! [config]

static void print_url(const char *from, const char *text)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_url *url;
    if (alch_url_parse(text, &url, &err) != 0) {
        printf("%s: %s\n", from, err.message);
        alch_error_clear(&err);
        return;
    }
    char *shown = alch_url_render(url, true); /* the password as *** */
    printf("%s: %s\n", from, shown);
    free(shown);
    alch_url_free(url);
}

int main(void)
{
    char path[] = "/tmp/alch-env-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    const char *lines = "# the shop's settings\nALCH_DATABASE_URL=postgresql://shop:secret@db.example:5432/shop\n";
    if (write(fd, lines, strlen(lines)) < 0)
        return 1;
    close(fd);

    //! [use]
    char *saved = getenv("ALCH_DATABASE_URL") ? strdup(getenv("ALCH_DATABASE_URL")) : NULL;
    unsetenv("ALCH_DATABASE_URL");
    char *url = config_database_url(path); /* not in the environment: the file's */
    print_url("from .env", url);
    free(url);

    if (saved) {
        setenv("ALCH_DATABASE_URL", saved, 1);
        url = config_database_url(path); /* the environment wins over the file */
        alch_error err = ALCH_ERROR_INIT;
        alch_conn *conn;
        if (alch_conn_open(url, &conn, &err) == 0) {
            printf("from the environment: connected\n");
            alch_conn_close(conn);
        } else {
            printf("%s\n", err.message);
            alch_error_clear(&err);
        }
        free(url);
        free(saved);
    }
    //! [use]
    unlink(path);
    return 0;
}
