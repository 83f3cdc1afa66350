// A library with the soname libcuda.so.1 that is not the harness stand-in:
// to InstallDriverFault it looks like the real NVIDIA driver.
extern "C" int cuInit(unsigned int flags) { return 0; }
