/* Catalog parsing (all or nothing, errors that name product and field) and
 * the phrases a customer may use for products and attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commerce/catalog.h"

#define GOOD_A "{\"sku\":\"A-1\",\"name\":\"Thing\",\"price\":1,\"currency\":\"USD\",\"category\":\"household\",\"stock\":1}"
#define GOOD_B "{\"sku\":\"B-2\",\"name\":\"Other\",\"price\":2,\"currency\":\"USD\",\"category\":\"grocery\",\"stock\":0}"
#define PRODUCT(fields) "{\"products\":[" GOOD_A "," fields "]}"

static vc_catalog *parse_ok(const char *json)
{
    vc_catalog *c = NULL;
    vc_status rc = vc_catalog_parse(json, strlen(json), "catalog.json", &c);
    if (rc != VC_OK)
        fail_msg("parse failed: %s", vc_error_detail());
    return c;
}

typedef struct {
    const char *json;
    vc_status status;
    const char *detail; /* must occur in vc_error_detail() */
} bad_case;

static const bad_case bad_catalogs[] = {
    {"[]", VC_EPARSE, "catalog.json: must be a JSON object with a \"products\" array"},
    {"{\"items\":[]}", VC_EPARSE, "must be a JSON object with a \"products\" array"},
    {"{\"products\":{}}", VC_EPARSE, "must be a JSON object with a \"products\" array"},
    {"{\"products\":[}", VC_EPARSE, "catalog.json: invalid JSON near byte 13"},
    {"", VC_EPARSE, "catalog.json: empty"},
    {"{\"products\":[3]}", VC_EPARSE, "catalog.json: product 1: must be an object"},
    {"{\"products\":[{\"name\":\"x\"}]}", VC_EPARSE, "catalog.json: product 1: missing field sku"},
    {PRODUCT("{\"sku\":\"B-2\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "catalog.json: product 2 (sku \"B-2\"): missing field name"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): name must not be empty"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"a\\tb\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): name must not contain control characters"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":7,\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): name must be a string"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":-1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "catalog.json: product 2 (sku \"B-2\"): price must be a non-negative number"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":\"3.49\",\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): price must be a non-negative number"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): missing field price"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"usd\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): currency must be 3 upper-case letters"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"US\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): currency must be 3 upper-case letters"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): missing field category"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1.5}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): stock must be a whole number >= 0"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":-2}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): stock must be a whole number >= 0"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\"}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): missing field stock"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"aliases\":[\"a\",\"b\",3],\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): aliases[2] must be a string"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"aliases\":\"a\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): aliases must be an array of strings"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1,\"attributes\":[]}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): attributes must be an object"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1,\"attributes\":{\"color\":[\"red\"]}}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): attributes.color must be a string, number or boolean"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1,\"attributes\":{\"color\":null}}"),
     VC_EPARSE, "attributes.color must be a string, number or boolean"},
    {PRODUCT("{\"sku\":\"B-2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1,\"attributes\":{\"color\":\"red\",\"color\":\"blue\"}}"),
     VC_EPARSE, "product 2 (sku \"B-2\"): attributes: duplicate key \"color\""},
    {"{\"products\":[" GOOD_A "," GOOD_B ",{\"sku\":\"A-1\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}]}",
     VC_EPARSE, "catalog.json: product 3 (sku \"A-1\"): duplicate sku (also product 1)"},
    {PRODUCT("{\"sku\":\"B\\\"2\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}"),
     VC_EPARSE, "product 2: sku must not contain quotes"},
};

static void each_bad_catalog_fails_naming_product_and_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_catalogs / sizeof *bad_catalogs; i++) {
        const bad_case *bc = &bad_catalogs[i];
        vc_catalog *c = (vc_catalog *)0x1;
        vc_status rc = vc_catalog_parse(bc->json, strlen(bc->json), "catalog.json", &c);

        if (rc != bc->status || !strstr(vc_error_detail(), bc->detail))
            fail_msg("case %zu (%s): got %s \"%s\", want %s containing \"%s\"", i, bc->json,
                     vc_status_name(rc), vc_error_detail(), vc_status_name(bc->status),
                     bc->detail);
        assert_null(c);
    }
}

static void good_catalog_round_trips_every_field(void **state)
{
    (void)state;
    const char *json =
        "{\"version\":3,\"products\":[{\"sku\":\"HH-0012\",\"name\":\"Melitta #4 Cone Coffee Filters, 100 ct\","
        "\"aliases\":[\"coffee filters\",\"filters\"],\"price\":3.49,\"currency\":\"USD\","
        "\"category\":\"household\",\"attributes\":{\"unit\":\"pack\",\"count\":100,\"unbleached\":true,"
        "\"bleached\":false,\"weight\":0.25},\"stock\":12,\"unknown_field\":{}},"
        GOOD_B "]}";
    vc_catalog *c = parse_ok(json);
    const vc_product *p = &c->products[0];

    assert_int_equal(c->n_products, 2);
    assert_string_equal(p->sku, "HH-0012");
    assert_string_equal(p->name, "Melitta #4 Cone Coffee Filters, 100 ct");
    assert_int_equal(p->n_aliases, 2);
    assert_string_equal(p->aliases[0], "coffee filters");
    assert_string_equal(p->aliases[1], "filters");
    assert_true(p->price == 3.49);
    assert_string_equal(p->currency, "USD");
    assert_string_equal(p->category, "household");
    assert_int_equal(p->stock, 12);
    assert_int_equal(p->n_attributes, 5);
    assert_string_equal(p->attributes[0].key, "unit");
    assert_string_equal(p->attributes[0].value, "pack");
    assert_string_equal(p->attributes[1].value, "100");
    assert_string_equal(p->attributes[2].value, "true");
    assert_string_equal(p->attributes[3].value, "false");
    assert_string_equal(p->attributes[4].value, "0.25");
    assert_int_equal(c->products[1].n_aliases, 0);
    assert_int_equal(c->products[1].stock, 0);

    vc_product copy;
    assert_int_equal(vc_product_copy(&copy, p), VC_OK);
    assert_string_equal(copy.aliases[1], "filters");
    assert_string_equal(copy.attributes[4].key, "weight");
    assert_ptr_not_equal(copy.name, p->name);
    vc_product_clear(&copy);
    assert_null(copy.name);
    vc_catalog_free(c);
}

static void text_need_not_be_nul_terminated(void **state)
{
    (void)state;
    char buf[] = "{\"products\":[]}GARBAGE";
    vc_catalog *c = NULL;

    assert_int_equal(vc_catalog_parse(buf, strlen("{\"products\":[]}"), "t", &c), VC_OK);
    assert_int_equal(c->n_products, 0);
    vc_catalog_free(c);
}

static void field_longer_than_limit_is_too_big(void **state)
{
    (void)state;
    char name[VC_CATALOG_MAX_FIELD + 2];
    char json[2048];
    vc_catalog *c = NULL;

    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(json, sizeof json,
             "{\"products\":[{\"sku\":\"A-1\",\"name\":\"%s\",\"price\":1,\"currency\":\"USD\","
             "\"category\":\"c\",\"stock\":1}]}",
             name);
    assert_int_equal(vc_catalog_parse(json, strlen(json), "catalog.json", &c), VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "product 1 (sku \"A-1\"): name is longer than 512 bytes"));
    assert_null(c);

    /* exactly at the limit is fine */
    name[VC_CATALOG_MAX_FIELD] = '\0';
    snprintf(json, sizeof json,
             "{\"products\":[{\"sku\":\"A-1\",\"name\":\"%s\",\"price\":1,\"currency\":\"USD\","
             "\"category\":\"c\",\"stock\":1}]}",
             name);
    assert_int_equal(vc_catalog_parse(json, strlen(json), "catalog.json", &c), VC_OK);
    vc_catalog_free(c);
}

static void too_many_aliases_is_too_big(void **state)
{
    (void)state;
    char json[8192] = "{\"products\":[{\"sku\":\"A-1\",\"name\":\"x\",\"price\":1,\"currency\":\"USD\","
                      "\"category\":\"c\",\"stock\":1,\"aliases\":[";
    vc_catalog *c = NULL;

    for (int i = 0; i < 65; i++) {
        char a[16];
        snprintf(a, sizeof a, "%s\"a%d\"", i ? "," : "", i);
        strcat(json, a);
    }
    strcat(json, "]}]}");
    assert_int_equal(vc_catalog_parse(json, strlen(json), "catalog.json", &c), VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "product 1 (sku \"A-1\"): more than 64 aliases"));
}

static void text_larger_than_limit_is_refused_unread(void **state)
{
    (void)state;
    vc_catalog *c = NULL;
    /* the length alone decides; the text is not touched */
    assert_int_equal(vc_catalog_parse("{}", (size_t)VC_CATALOG_MAX_BYTES + 1, "huge.json", &c),
                     VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "huge.json"));
}

static void load_reads_a_file_and_names_it_in_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/vc-catalog-XXXXXX";
    int fd = mkstemp(path);
    const char *bad = "{\"products\":[{\"sku\":\"A-1\"}]}";
    vc_catalog *c = NULL;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(vc_catalog_load(path, &c), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), path));
    assert_non_null(strstr(vc_error_detail(), "product 1 (sku \"A-1\"): missing field name"));
    unlink(path);
    assert_int_equal(vc_catalog_load(path, &c), VC_EIO);
    assert_null(c);
}

/* ---- phrases --------------------------------------------------------------- */

static const vc_catalog_phrase *find_phrase(const vc_catalog_phrase *list, size_t n,
                                            const char *phrase, const char *value)
{
    const vc_catalog_phrase *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].phrase, phrase) == 0 && strcmp(list[i].value, value) == 0) {
            if (found)
                fail_msg("phrase \"%s\" -> %s listed twice", phrase, value);
            found = &list[i];
        }
    return found;
}

static int has_word(const char *phrase, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(phrase, word); p; p = strstr(p + 1, word))
        if ((p == phrase || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static size_t word_count(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == ' ';
    return n;
}

static size_t count_phrase(const vc_catalog_phrase *list, size_t n, const char *phrase)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(list[i].phrase, phrase) == 0;
    return k;
}

static const char phrase_catalog[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta #4 Cone Coffee Filters, 100 ct\",\"aliases\":[\"Coffee Filters\",\"filters\"],"
    " \"price\":3.49,\"currency\":\"USD\",\"category\":\"household\",\"attributes\":{\"unit\":\"pack\"},\"stock\":3},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Select-A-Size Paper Towels, 6 Double Rolls\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":3},"
    "{\"sku\":\"HH-0002\",\"name\":\"Viva Signature Cloth Paper Towels, 6 Big Rolls\",\"price\":13.49,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":3},"
    "{\"sku\":\"GR-0001\",\"name\":\"Peet's Coffee Major Dickason's Blend 18 oz\",\"price\":12.99,"
    " \"currency\":\"USD\",\"category\":\"grocery\",\"stock\":3},"
    "{\"sku\":\"GR-0002\",\"name\":\"Kraft Macaroni & Cheese Dinner\",\"price\":1,"
    " \"currency\":\"USD\",\"category\":\"grocery\",\"stock\":3},"
    "{\"sku\":\"AP-0001\",\"name\":\"Arctix Men's Insulated Winter Jacket, Navy\",\"price\":49.99,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":3,"
    " \"attributes\":{\"color\":\"Navy\",\"waterproof\":true,\"size\":\"M\",\"unit\":\"each\",\"weight\":2}},"
    "{\"sku\":\"AP-0002\",\"name\":\"Columbia Oak Harbor Jacket, Navy\",\"price\":119.99,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":3,"
    " \"attributes\":{\"color\":\"navy\",\"waterproof\":true,\"gluten_free\":true,\"hooded\":false}}"
    "]}";

static void phrases_include_names_aliases_and_derived_short_names(void **state)
{
    (void)state;
    vc_catalog *c = parse_ok(phrase_catalog);
    vc_catalog_phrases ph;
    const vc_catalog_phrase *e;

    assert_int_equal(vc_catalog_phrases_build(c, &ph), VC_OK);
    e = find_phrase(ph.products, ph.n_products, "melitta 4 cone coffee filters 100 ct", "HH-0012");
    assert_non_null(e);
    assert_int_equal(e->derived, 0);
    /* an alias that equals a derived short form stays one, non-derived entry */
    e = find_phrase(ph.products, ph.n_products, "coffee filters", "HH-0012");
    assert_non_null(e);
    assert_int_equal(e->derived, 0);
    e = find_phrase(ph.products, ph.n_products, "cone coffee filters", "HH-0012");
    assert_non_null(e);
    assert_int_equal(e->derived, 1);
    e = find_phrase(ph.products, ph.n_products, "melitta cone coffee filters", "HH-0012");
    assert_non_null(e);
    assert_int_equal(e->derived, 1);
    assert_non_null(find_phrase(ph.products, ph.n_products, "filters", "HH-0012"));
    /* size and count words never make a short form */
    for (size_t i = 0; i < ph.n_products; i++)
        if (ph.products[i].derived) {
            assert_false(has_word(ph.products[i].phrase, "ct"));
            assert_false(has_word(ph.products[i].phrase, "100"));
            assert_false(has_word(ph.products[i].phrase, "rolls"));
            assert_false(has_word(ph.products[i].phrase, "oz"));
        }
    /* apostrophes dropped, '&' said as "and", words after a comma are sizes */
    assert_non_null(find_phrase(ph.products, ph.n_products, "peets coffee major dickasons blend 18 oz", "GR-0001"));
    assert_non_null(find_phrase(ph.products, ph.n_products, "peets coffee major dickasons blend", "GR-0001"));
    assert_non_null(find_phrase(ph.products, ph.n_products, "kraft macaroni and cheese dinner", "GR-0002"));
    assert_non_null(find_phrase(ph.products, ph.n_products, "cheese dinner", "GR-0002"));
    assert_null(find_phrase(ph.products, ph.n_products, "and cheese dinner", "GR-0002"));
    assert_non_null(find_phrase(ph.products, ph.n_products, "insulated winter jacket", "AP-0001"));
    assert_null(find_phrase(ph.products, ph.n_products, "winter jacket navy", "AP-0001"));
    /* phrases are lower case */
    for (size_t i = 0; i < ph.n_products; i++)
        for (const char *p = ph.products[i].phrase; *p; p++)
            assert_false(*p >= 'A' && *p <= 'Z');
    vc_catalog_phrases_clear(&ph);
    assert_null(ph.products);
    vc_catalog_free(c);
}

static void shared_short_name_lists_every_product_for_the_matcher(void **state)
{
    (void)state;
    vc_catalog *c = parse_ok(phrase_catalog);
    vc_catalog_phrases ph;
    const vc_catalog_phrase *a, *b;

    assert_int_equal(vc_catalog_phrases_build(c, &ph), VC_OK);
    a = find_phrase(ph.products, ph.n_products, "paper towels", "HH-0001");
    b = find_phrase(ph.products, ph.n_products, "paper towels", "HH-0002");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->derived, 1);
    assert_int_equal(b->derived, 1);
    assert_int_equal(count_phrase(ph.products, ph.n_products, "paper towels"), 2);
    assert_int_equal(count_phrase(ph.products, ph.n_products, "jacket"), 2);
    vc_catalog_phrases_clear(&ph);
    vc_catalog_free(c);
}

static void attribute_phrases_name_flags_and_values_once(void **state)
{
    (void)state;
    vc_catalog *c = parse_ok(phrase_catalog);
    vc_catalog_phrases ph;

    assert_int_equal(vc_catalog_phrases_build(c, &ph), VC_OK);
    assert_non_null(find_phrase(ph.attributes, ph.n_attributes, "waterproof", "waterproof"));
    assert_non_null(find_phrase(ph.attributes, ph.n_attributes, "navy", "color=navy"));
    assert_non_null(find_phrase(ph.attributes, ph.n_attributes, "gluten free", "gluten_free"));
    /* both jackets are navy and waterproof: one entry each */
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "navy"), 1);
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "waterproof"), 1);
    /* units, sizes, numbers and false flags are not attribute words */
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "pack"), 0);
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "each"), 0);
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "m"), 0);
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "2"), 0);
    assert_int_equal(count_phrase(ph.attributes, ph.n_attributes, "hooded"), 0);
    assert_int_equal(ph.n_attributes, 3);
    vc_catalog_phrases_clear(&ph);
    vc_catalog_free(c);
}

static void demo_catalog_gives_every_product_a_shorter_phrase(void **state)
{
    (void)state;
    vc_catalog *c = NULL;
    vc_catalog_phrases ph;
    char *json = NULL;
    FILE *f = fopen(VC_TEST_SOURCE_DIR "/models/store/demo.json", "rb");
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    json = malloc((size_t)n);
    assert_int_equal(fread(json, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    /* the seed wraps the catalog: cut out {"products":[...]} */
    char *start = strstr(json, "{\"products\"");
    char *end = strstr(json, "]},\n\"customers\"");
    assert_non_null(start);
    assert_non_null(end);
    assert_int_equal(vc_catalog_parse(start, (size_t)(end + 2 - start), "demo", &c), VC_OK);
    assert_true(c->n_products >= 200);
    assert_int_equal(vc_catalog_phrases_build(c, &ph), VC_OK);
    /* nobody says "Melitta #4 Cone Coffee Filters, 100 ct": each product has
     * a shorter phrase, an alias or a derived one */
    for (size_t i = 0; i < c->n_products; i++) {
        size_t full = 0, shortest = 1000;
        for (size_t j = 0; j < ph.n_products; j++) {
            if (strcmp(ph.products[j].value, c->products[i].sku) != 0)
                continue;
            size_t w = word_count(ph.products[j].phrase);
            if (!ph.products[j].derived && w > full)
                full = w;
            if (w < shortest)
                shortest = w;
        }
        if (shortest >= full || shortest > 3)
            fail_msg("no short phrase for %s", c->products[i].name);
    }
    assert_non_null(find_phrase(ph.products, ph.n_products, "coffee filters", "HH-0012"));
    assert_non_null(find_phrase(ph.attributes, ph.n_attributes, "waterproof", "waterproof"));
    vc_catalog_phrases_clear(&ph);
    vc_catalog_free(c);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_bad_catalog_fails_naming_product_and_field),
        cmocka_unit_test(good_catalog_round_trips_every_field),
        cmocka_unit_test(text_need_not_be_nul_terminated),
        cmocka_unit_test(field_longer_than_limit_is_too_big),
        cmocka_unit_test(too_many_aliases_is_too_big),
        cmocka_unit_test(text_larger_than_limit_is_refused_unread),
        cmocka_unit_test(load_reads_a_file_and_names_it_in_errors),
        cmocka_unit_test(phrases_include_names_aliases_and_derived_short_names),
        cmocka_unit_test(shared_short_name_lists_every_product_for_the_matcher),
        cmocka_unit_test(attribute_phrases_name_flags_and_values_once),
        cmocka_unit_test(demo_catalog_gives_every_product_a_shorter_phrase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
