/* voxcart-bundle: make and check signed update bundles (update/bundle.h).
 * Runs on the build machine, which alone holds the signing key. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "update/bundle.h"

static const char usage[] =
    "usage: voxcart-bundle COMMAND [OPTIONS]\n"
    "\n"
    "Signed update bundles for voxcart devices (docs/update.md).\n"
    "\n"
    "commands:\n"
    "  keygen --out KEY.pem --pub PUB.pem\n"
    "        a new ECDSA P-256 signing key (KEY.pem, mode 0600, stays on the build\n"
    "        machine) and its public key (PUB.pem, goes to every device)\n"
    "  create --board B --version V --out BUNDLE DIR\n"
    "        an unsigned bundle of every file under DIR (what the slot will hold)\n"
    "  sign --key KEY.pem BUNDLE\n"
    "        signs BUNDLE in place (after checking its files against its manifest)\n"
    "  verify --pub PUB.pem [--board B] BUNDLE\n"
    "        checks the signature and every file, as a device does before installing\n";

typedef struct {
    const char *out, *pub, *key, *board, *version;
} options;

static int fail(const char *cmd)
{
    fprintf(stderr, "voxcart-bundle %s: %s\n", cmd, vc_error_detail());
    return 1;
}

static int need(const char *cmd, const char *value, const char *option)
{
    if (value)
        return 0;
    fprintf(stderr, "voxcart-bundle %s: %s is required\n\n%s", cmd, option, usage);
    return 1;
}

static int cmd_verify(const options *o, const char *bundle)
{
    vc_bundle_key *key = NULL;
    vc_bundle_read_options ro = {0};
    vc_manifest m;
    int ret = 0;

    if (vc_bundle_key_load(o->pub, &key) != VC_OK)
        return fail("verify");
    ro.key = key;
    if (vc_bundle_read_file(bundle, &ro, &m) != VC_OK) {
        vc_bundle_key_free(key);
        return fail("verify");
    }
    if (o->board && strcmp(o->board, m.board) != 0) {
        fprintf(stderr, "voxcart-bundle verify: %s: for board %s, not %s\n", bundle, m.board,
                o->board);
        ret = 1;
    } else {
        printf("%s: version %s for board %s, created %s, %zu files, %llu bytes: signature and "
               "every file verified\n",
               bundle, m.version, m.board, m.created, m.n_files, m.total_size);
    }
    vc_manifest_clear(&m);
    vc_bundle_key_free(key);
    return ret;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},     {"pub", required_argument, NULL, 'p'},
        {"key", required_argument, NULL, 'k'},     {"board", required_argument, NULL, 'b'},
        {"version", required_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options o = {0};
    const char *cmd;
    int ch;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cmd = argv[1];
    argc--;
    argv++;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o': o.out = optarg; break;
        case 'p': o.pub = optarg; break;
        case 'k': o.key = optarg; break;
        case 'b': o.board = optarg; break;
        case 'v': o.version = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    argc -= optind;
    argv += optind;

    if (strcmp(cmd, "keygen") == 0) {
        if (need(cmd, o.out, "--out") || need(cmd, o.pub, "--pub"))
            return 2;
        if (argc != 0)
            goto extra;
        if (vc_bundle_keygen(o.out, o.pub) != VC_OK)
            return fail(cmd);
        printf("signing key %s (keep it on the build machine), public key %s (for "
               "[update] public_key on every device)\n",
               o.out, o.pub);
        return 0;
    }
    if (strcmp(cmd, "create") == 0) {
        if (need(cmd, o.board, "--board") || need(cmd, o.version, "--version") ||
            need(cmd, o.out, "--out"))
            return 2;
        if (argc != 1)
            goto extra;
        if (vc_bundle_create(argv[0], o.board, o.version, o.out) != VC_OK)
            return fail(cmd);
        printf("%s: unsigned bundle of %s, version %s for board %s (next: voxcart-bundle "
               "sign)\n",
               o.out, argv[0], o.version, o.board);
        return 0;
    }
    if (strcmp(cmd, "sign") == 0) {
        if (need(cmd, o.key, "--key"))
            return 2;
        if (argc != 1)
            goto extra;
        if (vc_bundle_sign(argv[0], o.key) != VC_OK)
            return fail(cmd);
        printf("%s: signed\n", argv[0]);
        return 0;
    }
    if (strcmp(cmd, "verify") == 0) {
        if (need(cmd, o.pub, "--pub"))
            return 2;
        if (argc != 1)
            goto extra;
        return cmd_verify(&o, argv[0]);
    }
    fprintf(stderr, "voxcart-bundle: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
extra:
    fprintf(stderr, "voxcart-bundle %s: wrong number of arguments\n\n%s", cmd, usage);
    return 2;
}
