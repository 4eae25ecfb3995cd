#include <stdio.h>
int main(void) { puts("voxcart: being written"); return 0; }
