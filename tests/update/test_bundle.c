/* Update bundles (update/bundle.h): made and signed by the writer, checked
 * by the reader; every rule of the format refused with an error that names
 * the problem. Keys are made by the tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle_fixture.h"
#include "test_util.h"

static vc_test_dir *dir;
static bf_keys keys;

static const bf_file payload[] = {
    {"bin/voxcart", "#!/bin/sh\necho voxcart 1.1.0\n", 0755},
    {"share/voxcart/models/pack.ini", "[pack]\nname = retail\n", 0},
    {"share/voxcart/readme.txt", "a payload file\n", 0},
};
#define N_PAYLOAD (sizeof payload / sizeof payload[0])

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static int group_setup(void **state)
{
    if (!(dir = vc_test_dir_new("vc-bundle", "x")))
        return -1;
    return bf_keys_init(&keys, dir->dir);
}

static int group_teardown(void **state)
{
    vc_test_dir_free(dir);
    return 0;
}

static const char *path_in(const char *name)
{
    static char paths[8][4200];
    static int next;
    char *p = paths[next++ % 8];

    snprintf(p, 4200, "%s/%s", dir->dir, name);
    return p;
}

/* Reads the bundle at path with the signing key's public key. */
static vc_status verify(const char *path, vc_manifest *m)
{
    vc_bundle_key *k = NULL;
    vc_bundle_read_options o = {0};
    vc_status rc;

    assert_int_equal(vc_bundle_key_load(keys.pub, &k), VC_OK);
    o.key = k;
    rc = vc_bundle_read_file(path, &o, m);
    vc_bundle_key_free(k);
    return rc;
}

static vc_status verify_memory(const char *data, size_t len)
{
    vc_bundle_key *k = NULL;
    vc_bundle_read_options o = {0};
    vc_status rc;

    assert_int_equal(vc_bundle_key_load(keys.pub, &k), VC_OK);
    o.key = k;
    rc = vc_bundle_read_memory(data, len, "mem", &o, NULL);
    vc_bundle_key_free(k);
    return rc;
}

static const char *make_good(const char *name)
{
    const char *p = path_in(name);
    assert_int_equal(bf_make_bundle(p, keys.key, "rpi4", "1.1.0", payload, N_PAYLOAD, dir->dir), 0);
    return p;
}

/* ---- the round trip ----------------------------------------------------- */

static void created_and_signed_bundle_verifies_with_every_file_listed(void **state)
{
    const char *b = make_good("good.tar");
    vc_manifest m;
    unsigned char digest[32];

    if (verify(b, &m) != VC_OK)
        fail_msg("%s", vc_error_detail());
    assert_int_equal(m.format, 1);
    assert_string_equal(m.version, "1.1.0");
    assert_string_equal(m.board, "rpi4");
    assert_int_equal(strlen(m.created), 20);
    assert_int_equal(m.n_files, 3);
    /* sorted, executables kept executable, contents hashed */
    assert_string_equal(m.files[0].path, "bin/voxcart");
    assert_int_equal(m.files[0].mode, 0755);
    assert_int_equal(m.files[1].mode, 0644);
    assert_int_equal(m.files[0].size, strlen(payload[0].data));
    assert_int_equal(vc_sha256(payload[0].data, strlen(payload[0].data), digest), VC_OK);
    assert_memory_equal(m.files[0].sha256, digest, 32);
    assert_non_null(vc_manifest_find(&m, "share/voxcart/readme.txt"));
    assert_null(vc_manifest_find(&m, "share/voxcart"));
    vc_manifest_clear(&m);
}

static void keygen_writes_the_signing_key_for_its_owner_only_and_never_overwrites(void **state)
{
    struct stat st;

    assert_int_equal(stat(keys.key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(keys.pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(vc_bundle_keygen(keys.key, path_in("new-pub.pem")), VC_ESTATE);
    assert_contains(vc_error_detail(), "never overwritten");
}

static void signing_with_a_key_others_can_read_is_refused(void **state)
{
    const char *b = path_in("loose.tar");
    const char *loose = path_in("loose-key.pem");
    size_t len = 0;
    char *pem = bf_read(keys.key, &len);

    assert_non_null(pem);
    assert_int_equal(bf_write(loose, pem, len), 0);
    free(pem);
    assert_int_equal(chmod(loose, 0644), 0);
    assert_int_equal(bf_make_bundle(b, NULL, "rpi4", "1.1.0", payload, N_PAYLOAD, dir->dir), 0);
    assert_int_equal(vc_bundle_sign(b, loose), VC_ESTATE);
    assert_contains(vc_error_detail(), "chmod 600");
}

static void a_private_key_is_refused_as_the_device_key(void **state)
{
    vc_bundle_key *k = NULL;

    assert_int_equal(vc_bundle_key_load(keys.key, &k), VC_EPARSE);
    assert_null(k);
    assert_contains(vc_error_detail(), "private key");
}

static void signing_again_replaces_the_signature(void **state)
{
    const char *b = make_good("resign.tar");
    vc_bundle_key *other = NULL;
    vc_bundle_read_options o = {0};

    assert_int_equal(vc_bundle_sign(b, keys.other_key), VC_OK);
    assert_int_equal(verify(b, NULL), VC_ETLS);
    assert_int_equal(vc_bundle_key_load(keys.other_pub, &other), VC_OK);
    o.key = other;
    assert_int_equal(vc_bundle_read_file(b, &o, NULL), VC_OK);
    vc_bundle_key_free(other);
}

/* ---- refusals ----------------------------------------------------------- */

static void unsigned_bundle_is_refused(void **state)
{
    const char *b = path_in("unsigned.tar");

    assert_int_equal(bf_make_bundle(b, NULL, "rpi4", "1.1.0", payload, N_PAYLOAD, dir->dir), 0);
    assert_int_equal(verify(b, NULL), VC_ETLS);
    assert_contains(vc_error_detail(), "not signed");
}

static void bundle_signed_with_another_key_is_refused(void **state)
{
    const char *b = path_in("other.tar");

    assert_int_equal(bf_make_bundle(b, keys.other_key, "rpi4", "1.1.0", payload, N_PAYLOAD,
                                    dir->dir),
                     0);
    assert_int_equal(verify(b, NULL), VC_ETLS);
    assert_contains(vc_error_detail(), "does not verify");
}

/* Changes one byte of the first occurrence of what in the file. */
static void flip_byte_of(const char *path, const char *what, size_t at)
{
    size_t len = 0;
    char *data = bf_read(path, &len), *hit;

    assert_non_null(data);
    hit = NULL;
    for (size_t i = 0; !hit && i + strlen(what) <= len; i++)
        if (memcmp(data + i, what, strlen(what)) == 0)
            hit = data + i;
    assert_non_null(hit);
    hit[at] ^= 0x01;
    assert_int_equal(bf_write(path, data, len), 0);
    free(data);
}

static void tampered_payload_is_refused_naming_the_file(void **state)
{
    const char *b = make_good("tampered-payload.tar");

    flip_byte_of(b, "a payload file", 3);
    assert_int_equal(verify(b, NULL), VC_EPARSE);
    assert_contains(vc_error_detail(), "files/share/voxcart/readme.txt");
    assert_contains(vc_error_detail(), "SHA-256");
}

static void tampered_manifest_is_refused_by_the_signature(void **state)
{
    const char *b = make_good("tampered-manifest.tar");

    /* 1.1.0 -> 1.1.1: the same length, a valid manifest, but not the signed one */
    flip_byte_of(b, "\"1.1.0\"", 5);
    assert_int_equal(verify(b, NULL), VC_ETLS);
    assert_contains(vc_error_detail(), "does not verify");
}

static void every_truncation_is_refused(void **state)
{
    const char *b = make_good("whole.tar");
    size_t len = 0, refused = 0, tried = 0;
    char *data = bf_read(b, &len);

    assert_non_null(data);
    assert_int_equal(verify_memory(data, len), VC_OK);
    /* The writer ends the archive with its two null blocks and no padding;
     * one null block is still an end. Anything shorter, at any byte
     * (inside a header, the manifest, the signature, a file, at a block
     * boundary with the end-of-archive marker missing) is refused. */
    for (size_t cut = 0; cut + 512 < len; cut++) {
        /* every block boundary and the bytes around it, and a stride through the rest */
        if (cut % 512 > 2 && cut % 512 < 510 && cut % 37 != 0)
            continue;
        tried++;
        vc_status rc = verify_memory(data, cut);
        if (rc == VC_OK)
            fail_msg("a bundle cut to %zu of %zu bytes was accepted", cut, len);
        refused++;
    }
    assert_true(tried > 50);
    assert_int_equal(refused, tried);
    /* the three classes say what is wrong */
    assert_int_equal(verify_memory(data, 700), VC_EPARSE); /* inside the manifest */
    assert_contains(vc_error_detail(), "truncated");
    assert_int_equal(verify_memory(data, len - 1024), VC_EPARSE); /* no end marker */
    assert_contains(vc_error_detail(), "end-of-archive marker is missing");
    assert_int_equal(verify_memory(data, len - 1024 - 600), VC_EPARSE); /* inside a file */
    assert_contains(vc_error_detail(), "truncated");
    free(data);
}

static void entries_that_are_not_plain_listed_files_are_refused(void **state)
{
    static const bf_file one[] = {{"bin/voxcart", "binary\n", 0755}};
    static const struct {
        const char *what;
        bf_entry entries[3];
        size_t n;
        const char *want;
    } cases[] = {
        {"symlink", {{.name = "files/bin/voxcart", .type = AE_IFLNK, .link = "/etc/passwd"}}, 1,
         "symbolic link"},
        {"directory", {{.name = "files/bin/voxcart", .type = AE_IFDIR}}, 1, "directory"},
        {"hard link", {{.name = "files/bin/voxcart", .hardlink = "manifest.json"}}, 1, "hard link"},
        {"device", {{.name = "files/bin/voxcart", .type = AE_IFCHR}}, 1, "character device"},
        {"fifo", {{.name = "files/bin/voxcart", .type = AE_IFIFO}}, 1, "FIFO"},
        {"unlisted",
         {{.name = "files/bin/voxcart", .data = "binary\n", .len = 7},
          {.name = "files/bin/extra", .data = "x", .len = 1}},
         2, "files/bin/extra is not in the manifest"},
        {"missing", {{0}}, 0, "files/bin/voxcart is in the manifest but not in the bundle"},
        {"twice",
         {{.name = "files/bin/voxcart", .data = "binary\n", .len = 7},
          {.name = "files/bin/voxcart", .data = "binary\n", .len = 7}},
         2, "appears twice"},
        {"outside files/", {{.name = "etc/passwd", .data = "x", .len = 1}}, 1, "unexpected entry"},
        {"traversal", {{.name = "files/../bin/voxcart", .data = "binary\n", .len = 7}}, 1,
         "not in the manifest"},
        {"size", {{.name = "files/bin/voxcart", .data = "binary!\n", .len = 8}}, 1,
         "the manifest says 7"},
    };
    const char *b = path_in("crafted.tar");
    char *json = bf_manifest("1.1.0", "rpi4", one, 1);

    assert_non_null(json);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(bf_write_signed_tar(b, keys.key, json, cases[i].entries, cases[i].n), 0);
        if (verify(b, NULL) == VC_OK)
            fail_msg("%s: accepted", cases[i].what);
        if (!strstr(vc_error_detail(), cases[i].want))
            fail_msg("%s: \"%s\" does not say \"%s\"", cases[i].what, vc_error_detail(),
                     cases[i].want);
    }
    /* and the same entries done right pass */
    {
        bf_entry ok = {.name = "files/bin/voxcart", .data = "binary\n", .len = 7};
        assert_int_equal(bf_write_signed_tar(b, keys.key, json, &ok, 1), 0);
        if (verify(b, NULL) != VC_OK)
            fail_msg("%s", vc_error_detail());
    }
    free(json);
}

static void archive_shape_is_checked_before_the_manifest_is_read(void **state)
{
    static const bf_file one[] = {{"bin/voxcart", "binary\n", 0755}};
    const char *b = path_in("shape.tar");
    char *json = bf_manifest("1.1.0", "rpi4", one, 1), *big;
    bf_entry e[3];

    assert_non_null(json);
    /* a payload file first */
    e[0] = (bf_entry){.name = "files/bin/voxcart", .data = "binary\n", .len = 7};
    e[1] = (bf_entry){.name = "manifest.json", .data = json, .len = strlen(json)};
    assert_int_equal(bf_write_tar(b, e, 2), 0);
    assert_int_equal(verify(b, NULL), VC_EPARSE);
    assert_contains(vc_error_detail(), "first entry");
    /* a manifest over 64 KiB is not read */
    big = calloc(1, VC_BUNDLE_MAX_MANIFEST + 2);
    memset(big, ' ', VC_BUNDLE_MAX_MANIFEST + 1);
    e[0] = (bf_entry){.name = "manifest.json", .data = big, .len = VC_BUNDLE_MAX_MANIFEST + 1};
    assert_int_equal(bf_write_tar(b, e, 1), 0);
    assert_int_equal(verify(b, NULL), VC_ETOOBIG);
    assert_contains(vc_error_detail(), "over the limit of 65536");
    free(big);
    /* a signature that is not one */
    e[0] = (bf_entry){.name = "manifest.json", .data = json, .len = strlen(json)};
    e[1] = (bf_entry){.name = "manifest.sig", .data = "\x30", .len = 1};
    e[2] = (bf_entry){.name = "files/bin/voxcart", .data = "binary\n", .len = 7};
    assert_int_equal(bf_write_tar(b, e, 3), 0);
    assert_int_equal(verify(b, NULL), VC_ETLS);
    /* not a tar at all */
    assert_int_equal(bf_write(b, "not a tar archive, just text", 28), 0);
    assert_int_equal(verify(b, NULL), VC_EPARSE);
    assert_contains(vc_error_detail(), "not an update bundle");
    /* a missing file */
    assert_int_equal(verify(path_in("no-such.tar"), NULL), VC_EIO);
    free(json);
}

/* ---- the manifest's rules ---------------------------------------------- */

#define SHA "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""
#define FILE_OK(p) "{\"path\":\"" p "\"," SHA ",\"size\":0,\"mode\":\"0644\"}"
#define HEAD "\"format\":1,\"version\":\"1.3.0\",\"board\":\"rpi4\",\"created\":\"2026-11-30T12:00:00Z\""
#define WITH_FILES(list) "{" HEAD ",\"files\":[" list "]}"

static void manifest_rules_are_each_refused_by_name(void **state)
{
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        {"not json", "malformed JSON"},
        {WITH_FILES("") " trailing", "malformed JSON"},
        {"[1,2]", "must be a JSON object"},
        {"{\"format\":1,\"version\":\"1.3.0\",\"board\":\"rpi4\",\"files\":[]}",
         "\"created\" is missing"},
        {"{" HEAD ",\"files\":[],\"extra\":1}", "unknown member \"extra\""},
        {"{" HEAD ",\"board\":\"rpi5\",\"files\":[]}", "\"board\" appears twice"},
        {"{\"format\":2,\"version\":\"1.3.0\",\"board\":\"rpi4\",\"created\":"
         "\"2026-11-30T12:00:00Z\",\"files\":[]}",
         "format must be 1"},
        {"{\"format\":1,\"version\":\"1.3\",\"board\":\"rpi4\",\"created\":"
         "\"2026-11-30T12:00:00Z\",\"files\":[]}",
         "MAJOR.MINOR.PATCH"},
        {"{\"format\":1,\"version\":\"01.3.0\",\"board\":\"rpi4\",\"created\":"
         "\"2026-11-30T12:00:00Z\",\"files\":[]}",
         "MAJOR.MINOR.PATCH"},
        {"{\"format\":1,\"version\":\"1.3.0-rc1\",\"board\":\"rpi4\",\"created\":"
         "\"2026-11-30T12:00:00Z\",\"files\":[]}",
         "MAJOR.MINOR.PATCH"},
        {"{\"format\":1,\"version\":\"1.3.0\",\"board\":\"RPi 4\",\"created\":"
         "\"2026-11-30T12:00:00Z\",\"files\":[]}",
         "board \"RPi 4\""},
        {"{\"format\":1,\"version\":\"1.3.0\",\"board\":\"rpi4\",\"created\":"
         "\"2026-02-30T12:00:00Z\",\"files\":[]}",
         "RFC 3339"},
        {"{" HEAD ",\"files\":{}}", "files must be an array"},
        {WITH_FILES(FILE_OK("/etc/passwd")), "\"/etc/passwd\" is not allowed"},
        {WITH_FILES(FILE_OK("../x")), "\"../x\" is not allowed"},
        {WITH_FILES(FILE_OK("a/../b")), "\"a/../b\" is not allowed"},
        {WITH_FILES(FILE_OK("a//b")), "\"a//b\" is not allowed"},
        {WITH_FILES(FILE_OK("a/")), "\"a/\" is not allowed"},
        {WITH_FILES(FILE_OK("./a")), "\"./a\" is not allowed"},
        {WITH_FILES(FILE_OK("a b")), "\"a b\" is not allowed"},
        {WITH_FILES(FILE_OK("a\\\\b")), "is not allowed"},
        {WITH_FILES(FILE_OK("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q")), "is not allowed"},
        {WITH_FILES("{\"path\":\"a\",\"sha256\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA"
                    "495991B7852B855\",\"size\":0,\"mode\":\"0644\"}"),
         "64 lower-case hex"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":-1,\"mode\":\"0644\"}"), "whole number"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":1.5,\"mode\":\"0644\"}"), "whole number"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":2000000000,\"mode\":\"0644\"}"),
         "over the limit"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":0,\"mode\":\"0777\"}"), "0777 is not allowed"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":0,\"mode\":\"4755\"}"), "4 octal digits"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":0,\"mode\":\"755\"}"), "4 octal digits"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":0,\"mode\":\"0644\",\"owner\":0}"),
         "unknown member \"owner\""},
        {WITH_FILES(FILE_OK("b") "," FILE_OK("a")), "not sorted"},
        {WITH_FILES(FILE_OK("a") "," FILE_OK("a")), "\"a\" is listed twice"},
        {WITH_FILES(FILE_OK("a") "," FILE_OK("a/b")), "\"a\" is a file and a directory"},
        {WITH_FILES("{\"path\":\"a\"," SHA ",\"size\":600000000,\"mode\":\"0644\"},"
                    "{\"path\":\"b\"," SHA ",\"size\":600000000,\"mode\":\"0644\"}"),
         "add up to more than"},
    };
    vc_manifest m;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vc_status rc = vc_manifest_parse(cases[i].json, strlen(cases[i].json), "m.json", &m);
        if (rc == VC_OK)
            fail_msg("case %zu (%s): accepted", i, cases[i].json);
        if (!strstr(vc_error_detail(), cases[i].want))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, vc_error_detail(), cases[i].want);
        assert_int_equal(m.n_files, 0);
    }
    {
        const char ok[] = WITH_FILES(FILE_OK("a") "," FILE_OK("b/c"));
        assert_int_equal(vc_manifest_parse(ok, strlen(ok), "m.json", &m), VC_OK);
        assert_int_equal(m.n_files, 2);
        vc_manifest_clear(&m);
        /* a NUL byte inside is refused, not parsed up to */
        assert_int_equal(vc_manifest_parse(ok, sizeof ok, "m.json", &m), VC_EPARSE);
        assert_contains(vc_error_detail(), "NUL");
    }
}

static void manifest_over_64_kib_is_refused(void **state)
{
    size_t n = VC_BUNDLE_MAX_MANIFEST + 1;
    char *big = malloc(n);
    vc_manifest m;

    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    assert_int_equal(vc_manifest_parse(big, n, "m.json", &m), VC_ETOOBIG);
    assert_contains(vc_error_detail(), "65537 bytes, over the limit of 65536");
    free(big);
}

static void versions_compare_by_number_not_text(void **state)
{
    assert_true(vc_version_compare("1.10.0", "1.9.9") > 0);
    assert_true(vc_version_compare("2.0.0", "10.0.0") < 0);
    assert_int_equal(vc_version_compare("1.3.0", "1.3.0"), 0);
    assert_true(vc_version_compare("1.3.1", "1.3.0") > 0);
    assert_true(vc_version_valid("0.0.0"));
    assert_false(vc_version_valid("1.2"));
    assert_false(vc_version_valid("1.2.3.4"));
    assert_false(vc_version_valid("1.2.03"));
    assert_false(vc_version_valid("1234567.0.0"));
    assert_false(vc_version_valid(" 1.2.3"));
}

static void create_refuses_links_and_names_outside_the_rules(void **state)
{
    char tree[4300], link[4400];

    snprintf(tree, sizeof tree, "%s/linked", dir->dir);
    assert_int_equal(vc_mkdirs(tree), VC_OK);
    snprintf(link, sizeof link, "%s/passwd", tree);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(vc_bundle_create(tree, "rpi4", "1.0.0", path_in("linked.tar")), VC_EINVAL);
    assert_contains(vc_error_detail(), "symbolic link");
    unlink(link);
    snprintf(link, sizeof link, "%s/a name", tree);
    assert_int_equal(bf_write(link, "x", 1), 0);
    assert_int_equal(vc_bundle_create(tree, "rpi4", "1.0.0", path_in("linked.tar")), VC_EINVAL);
    assert_contains(vc_error_detail(), "not allowed in a bundle");
    unlink(link);
    assert_int_equal(vc_bundle_create(tree, "RPI4", "1.0.0", path_in("linked.tar")), VC_EINVAL);
    assert_int_equal(vc_bundle_create(tree, "rpi4", "v1", path_in("linked.tar")), VC_EINVAL);
    assert_int_equal(access(path_in("linked.tar"), F_OK), -1);
}

static void an_empty_payload_is_a_valid_bundle(void **state)
{
    char tree[4300];
    vc_manifest m;

    snprintf(tree, sizeof tree, "%s/empty", dir->dir);
    assert_int_equal(vc_mkdirs(tree), VC_OK);
    assert_int_equal(vc_bundle_create(tree, "pc", "1.0.0", path_in("empty.tar")), VC_OK);
    assert_int_equal(vc_bundle_sign(path_in("empty.tar"), keys.key), VC_OK);
    assert_int_equal(verify(path_in("empty.tar"), &m), VC_OK);
    assert_int_equal(m.n_files, 0);
    vc_manifest_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(created_and_signed_bundle_verifies_with_every_file_listed),
        cmocka_unit_test(keygen_writes_the_signing_key_for_its_owner_only_and_never_overwrites),
        cmocka_unit_test(signing_with_a_key_others_can_read_is_refused),
        cmocka_unit_test(a_private_key_is_refused_as_the_device_key),
        cmocka_unit_test(signing_again_replaces_the_signature),
        cmocka_unit_test(unsigned_bundle_is_refused),
        cmocka_unit_test(bundle_signed_with_another_key_is_refused),
        cmocka_unit_test(tampered_payload_is_refused_naming_the_file),
        cmocka_unit_test(tampered_manifest_is_refused_by_the_signature),
        cmocka_unit_test(every_truncation_is_refused),
        cmocka_unit_test(entries_that_are_not_plain_listed_files_are_refused),
        cmocka_unit_test(archive_shape_is_checked_before_the_manifest_is_read),
        cmocka_unit_test(manifest_rules_are_each_refused_by_name),
        cmocka_unit_test(manifest_over_64_kib_is_refused),
        cmocka_unit_test(versions_compare_by_number_not_text),
        cmocka_unit_test(create_refuses_links_and_names_outside_the_rules),
        cmocka_unit_test(an_empty_payload_is_a_valid_bundle),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
