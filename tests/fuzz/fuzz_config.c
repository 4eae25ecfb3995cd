/* Fuzzes the config parser: any bytes either parse or fail with a detail,
 * never crash, and a failed parse leaves the config as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_config cfg, before;
    char *text;

    if (size > VC_CONFIG_MAX_BYTES)
        return 0; /* vc_config_load refuses these before parsing */
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    vc_config_defaults(&cfg);
    before = cfg;
    if (vc_config_parse(&cfg, text, "fuzz.conf") != VC_OK) {
        if (memcmp(&cfg, &before, sizeof cfg) != 0)
            abort();
        if (vc_error_detail()[0] == '\0')
            abort();
    } else {
        /* what was accepted is NUL-terminated and within range */
        if (memchr(cfg.board, '\0', sizeof cfg.board) == NULL ||
            memchr(cfg.state_dir, '\0', sizeof cfg.state_dir) == NULL ||
            memchr(cfg.pin, '\0', sizeof cfg.pin) == NULL)
            abort();
        if (cfg.sample_rate < 8000 || cfg.sample_rate > 192000 || cfg.volume < 0 ||
            cfg.volume > 200 || cfg.daily_spend_limit < 0)
            abort();
    }
    free(text);
    return 0;
}
