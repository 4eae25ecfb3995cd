/* The voxcart-merchantd command line: serve, the admin subcommands and
 * --demo. In the library so that tests can run subcommands in-process. */
#ifndef VC_MERCHANTD_CLI_H
#define VC_MERCHANTD_CLI_H

/* Runs one command; returns the process exit status (0 success, 1 a
 * failure reported on stderr, 2 bad usage). serve and --demo return when
 * SIGTERM or SIGINT arrives. */
int vc_merchantd_main(int argc, char **argv);

#endif
