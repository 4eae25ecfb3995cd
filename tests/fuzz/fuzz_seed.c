/* The demo seed loader (cJSON; catalog, customers, order history) on
 * arbitrary bytes: written to a temporary file and seeded into an empty
 * :memory: store. It must fail cleanly or leave a store whose catalog can be
 * walked and whose counts agree; a failed seed writes nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commerce/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vc_status count_product(void *ctx, const vc_product *p)
{
    size_t *n = ctx;
    if (!p->sku || !p->name)
        __builtin_trap();
    (*n)++;
    return VC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/vc-fuzz-seed-XXXXXX";
    vc_store *s = NULL;
    size_t n = 0, walked = 0;
    int fd = mkstemp(path);
    vc_status rc;

    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    if (vc_store_open(":memory:", &s) != VC_OK)
        __builtin_trap();
    rc = vc_store_seed(s, path);
    if (vc_store_product_count(s, &n) != VC_OK)
        __builtin_trap();
    if (rc != VC_OK) {
        if (n != 0)
            __builtin_trap(); /* all or nothing */
    } else {
        if (vc_store_each_product(s, count_product, &walked) != VC_OK || walked != n)
            __builtin_trap();
        /* seeding twice is refused: the store is no longer empty */
        if (n && vc_store_seed(s, path) != VC_ESTATE)
            __builtin_trap();
    }
    vc_store_close(s);
    unlink(path);
    return 0;
}
