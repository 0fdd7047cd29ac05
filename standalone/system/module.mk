# vireo-system-x86_64 / vireo-system-i386: the full-system emulator (see docs/manual.md).
# The Linux boot-protocol loader lives in machines/ but is listed here: it is this
# program's part of the pc machine and has no dependency on the rest of machines/.
$(eval $(call library,x86boot,machines/x86-linux-boot.c))
