/* voxcart-merchantd: the reference merchant backend (docs/protocol.md). */
#include "cli.h"

int main(int argc, char **argv)
{
    return vc_merchantd_main(argc, argv);
}
