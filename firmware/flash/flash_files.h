/* The scripts voxcart-flash puts on a card, built into the program from
 * the files of the same names here (embed.cmake), each with a final NUL
 * that _len does not count. */
#ifndef VC_FLASH_FILES_H
#define VC_FLASH_FILES_H

#include <stddef.h>

/* firstrun.sh: the first boot's installer (cmdline.txt runs it). */
extern const unsigned char vc_flash_firstrun_sh[];
extern const size_t vc_flash_firstrun_sh_len;
/* voxcart-register: `voxcart register` with the one-time token. */
extern const unsigned char vc_flash_voxcart_register[];
extern const size_t vc_flash_voxcart_register_len;
/* voxcart-register.service: runs it once the network is up. */
extern const unsigned char vc_flash_voxcart_register_service[];
extern const size_t vc_flash_voxcart_register_service_len;

#endif
