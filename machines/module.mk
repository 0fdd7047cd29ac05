# Boards: libmachines holds every machines/*.c (the pc machine, and the x86 Linux
# loader that the system engineer keeps in machines/x86-linux-boot.*).
MACHINES_SRCS := $(wildcard machines/*.c)
$(eval $(call library,machines,$(MACHINES_SRCS)))
