/* `voxcart update`: signed update bundles on the device (update/slots.h,
 * docs/update.md). */
#ifndef VC_CLI_UPDATE_H
#define VC_CLI_UPDATE_H

#include "core/config.h"

/* argv[0] is the subcommand: apply BUNDLE|URL, check, status, boot-check,
 * mark-healthy, rollback. force lets apply install a downgrade, the same
 * version again or another board's bundle; install_it (--apply) lets check
 * download and install the newer bundle it finds. Returns the exit status
 * (0 ok, also when check finds an update or none; 1 failed, 2 usage). */
int vc_cli_update(const vc_config *cfg, int force, int install_it, int argc, char **argv);

/* For `voxcart run` once it is ready: confirms an update waiting for its
 * health check. Logs what it did; a failure is logged, never fatal (the
 * device keeps serving, and boot-check rolls back if it never confirms). */
void vc_cli_update_confirm(const vc_config *cfg);

#endif
