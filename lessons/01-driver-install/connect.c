/* Lesson 01, program 2: a database URL, and a first connection.
 *
 * The seed passes a URL to create_async_engine(url=...). Before we build an engine
 * (lesson 02) we look at that URL, and open one plain connection with it. */
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

//! [print_error]
/* Print an error as alch formats it, then empty the error object for the next call. */
static void print_error(alch_error *err)
{
    char *text = alch_error_format(err); /* a string we must free */
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}
//! [print_error]

//! [show_url]
/* Print a parsed URL with its password hidden, then its parts one by one. */
static void show_url(const alch_url *url)
{
    char *shown = alch_url_render(url, true); /* true: the password becomes *** */
    printf("  URL:      %s\n", shown ? shown : "(out of memory)");
    free(shown);

    const char *host = alch_url_host(url);
    const char *port = alch_url_port(url);
    const char *database = alch_url_database(url);
    printf("  driver:   %s\n", alch_url_drivername(url));
    if (!host)
        printf("  server:   libpq's default Unix socket\n");
    else if (host[0] == '/')
        printf("  server:   a Unix socket in the directory %s\n", host);
    else
        printf("  server:   %s, TCP port %s\n", host, port ? port : "5432 (the default)");
    printf("  database: %s\n", database ? database : "(the user's name, libpq's default)");
}
//! [show_url]

int main(void)
{
    //! [env]
    const char *url_text = getenv("ALCH_DATABASE_URL");
    if (!url_text || !*url_text) {
        fprintf(stderr, "ALCH_DATABASE_URL is not set, so this program does not know which "
                        "database to use.\nRun it with `./tutor run 1`: tutor starts a practice "
                        "database and sets the variable for you.\n");
        return 1;
    }
    //! [env]

    alch_error err = ALCH_ERROR_INIT;

    //! [parse]
    alch_url *url = NULL;
    if (alch_url_parse(url_text, &url, &err) != 0) {
        print_error(&err);
        return 1;
    }
    printf("Your database:\n");
    show_url(url);
    alch_url_free(url);
    //! [parse]

    //! [mask]
    alch_url *example = NULL;
    if (alch_url_parse("postgresql+libpq://shop:s3cret@db.example.com:5433/shop?sslmode=require",
                       &example, &err) == 0) {
        printf("An example with a password:\n");
        show_url(example);
        alch_url_free(example);
    }
    //! [mask]

    //! [open]
    alch_conn *conn = NULL;
    if (alch_conn_open(url_text, &conn, &err) != 0) {
        print_error(&err);
        return 1;
    }
    printf("Connected.\n");
    //! [open]

    //! [query]
    alch_result *res = NULL;
    if (alch_conn_execute_text(conn, "SELECT version()", NULL, 0, &res, &err) == 0) {
        const char *version = NULL;
        if (alch_result_get_text(res, 0, 0, &version, &err) == 0)
            printf("SELECT version() says: %s\n", version);
        alch_result_free(res);
    }
    if (err.code != 0)
        print_error(&err);

    int v = alch_conn_server_version(conn); /* 150018 means 15.18, as for libpq */
    printf("server version: %d.%d\n", v / 10000, v % 10000);
    alch_conn_close(conn);
    //! [query]

    //! [mistakes]
    const char *mistakes[] = {
        "mysql+aiomysql://alch@localhost/shop",            /* not PostgreSQL */
        "postgresql://alch@localhost:99999/shop",          /* a port is at most 65535 */
        "postgresql://alch@localhost/shop?sslmod=disable", /* a typo in an option */
    };
    for (size_t i = 0; i < sizeof mistakes / sizeof *mistakes; i++) {
        alch_url *bad = NULL;
        printf("\n%s\n", mistakes[i]);
        if (alch_url_parse(mistakes[i], &bad, &err) != 0)
            print_error(&err);
        alch_url_free(bad); /* NULL when parsing failed: that is allowed */
    }
    //! [mistakes]

    //! [refused]
    /* A URL can be well formed and still lead nowhere: here, a socket directory that
     * does not exist. This fails when connecting, not when parsing. */
    printf("\npostgresql://alch@/shop?host=/nonexistent\n");
    if (alch_conn_open("postgresql://alch@/shop?host=/nonexistent", &conn, &err) != 0)
        print_error(&err);
    //! [refused]
    return 0;
}
