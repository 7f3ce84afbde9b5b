/* docs/reports.md cannot fall behind report/: every figure of report_figures() is named on
 * the page as `name`, and the page's table of figures has its row with the same title, unit
 * and definition, word for word. */
#include "report_fixture.h"

static char *page;

static int read_page(void **state)
{
    (void)state;
    FILE *f = fopen(CD_SOURCE_DIR "/docs/reports.md", "rb");
    if (f == NULL) {
        return -1;
    }
    size_t cap = 1 << 16, len = 0, n;
    page = malloc(cap);
    while (page != NULL && (n = fread(page + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *bigger = realloc(page, cap * 2);
            if (bigger == NULL) {
                free(page);
            }
            page = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (page == NULL) {
        return -1;
    }
    page[len] = '\0';
    return 0;
}

static int free_page(void **state)
{
    (void)state;
    free(page);
    return 0;
}

static const char *const units[] = {"count", "ratio", "seconds", "per hour"};

static void every_figure_is_named(void **state)
{
    (void)state;
    size_t n;
    const struct report_figure *figures = report_figures(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "`%s`", figures[i].name);
        if (strstr(page, quoted) == NULL) {
            fail_msg("docs/reports.md does not name figure %s", quoted);
        }
    }
}

static void every_figure_has_its_row(void **state)
{
    (void)state;
    size_t n;
    const struct report_figure *figures = report_figures(&n);
    for (size_t i = 0; i < n; i++) {
        char row[1024];
        assert_true(figures[i].unit < sizeof(units) / sizeof(units[0]));
        snprintf(row, sizeof(row), "| `%s` | %s | %s | %s |", figures[i].name, figures[i].title,
                 units[figures[i].unit], figures[i].definition);
        if (strstr(page, row) == NULL) {
            fail_msg("docs/reports.md has no row\n%s", row);
        }
    }
}

/* Names are unique, snake_case, and found by report_figure_find(). */
static void figure_names_are_unique_and_found(void **state)
{
    (void)state;
    size_t n;
    const struct report_figure *figures = report_figures(&n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(report_figure_find(figures[i].name), (int)i);
        for (const char *c = figures[i].name; *c != '\0'; c++) {
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
        }
        assert_non_null(figures[i].title);
        assert_true(strlen(figures[i].definition) > 10);
    }
    assert_int_equal(report_figure_find("no_such_figure"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_figure_is_named),
        cmocka_unit_test(every_figure_has_its_row),
        cmocka_unit_test(figure_names_are_unique_and_found),
    };
    return cmocka_run_group_tests(tests, read_page, free_page);
}
