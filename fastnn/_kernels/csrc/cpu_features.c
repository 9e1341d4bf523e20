/* fastnn._kernels._cpufeatures: which instruction sets this CPU (and its OS) offers.
 *
 * Compiled for the compiler's baseline target (never with -march), so importing it
 * cannot raise SIGILL on any CPU of the platform: it is what the engine asks before
 * it loads an ISA-specific build of a kernel module. Reads CPUID directly, so it
 * answers for the CPU the process really runs on (an emulator's model included, where
 * /proc/cpuinfo would show the host's). AVX and AVX-512 count only when the OS saves
 * their registers (XGETBV), as the x86-64 psABI levels require.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long fnn_xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static int add(PyObject *set, const char *name, int present) {
    if (!present) return 0;
    PyObject *s = PyUnicode_FromString(name);
    if (!s) return -1;
    int rc = PySet_Add(set, s);
    Py_DECREF(s);
    return rc;
}

#define BIT(r, n) (((r) >> (n)) & 1u)

static int fill(PyObject *set, char *brand, size_t brand_len) {
    unsigned int a = 0, b = 0, c = 0, d = 0, max_leaf, max_ext;
    max_leaf = __get_cpuid_max(0, NULL);
    max_ext = __get_cpuid_max(0x80000000u, NULL);
    brand[0] = 0;
    if (max_leaf < 1) return 0;
    __cpuid(1, a, b, c, d);
    const unsigned int c1 = c, d1 = d;
    const int osxsave = BIT(c1, 27);
    const unsigned long long xcr0 = osxsave ? fnn_xgetbv0() : 0;
    const int os_avx = (xcr0 & 0x6) == 0x6;           /* XMM and YMM state */
    const int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;   /* opmask, ZMM_Hi256, Hi16_ZMM */
    unsigned int b7 = 0, c7 = 0, d7 = 0, a71 = 0;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        b7 = b; c7 = c; d7 = d;
        const unsigned int sub = a;
        if (sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            a71 = a;
        }
    }
    unsigned int ce = 0;
    if (max_ext >= 0x80000001u) {
        __cpuid(0x80000001u, a, b, c, d);
        ce = c;
    }
    if (max_ext >= 0x80000004u) {
        unsigned int *w = (unsigned int *)brand;
        for (unsigned int leaf = 0; leaf < 3 && brand_len >= 49; leaf++) {
            __cpuid(0x80000002u + leaf, a, b, c, d);
            w[4 * leaf] = a; w[4 * leaf + 1] = b; w[4 * leaf + 2] = c; w[4 * leaf + 3] = d;
        }
        brand[48] = 0;
    }
    struct { const char *name; int on; } f[] = {
        {"sse", BIT(d1, 25)}, {"sse2", BIT(d1, 26)}, {"sse3", BIT(c1, 0)},
        {"pclmul", BIT(c1, 1)}, {"ssse3", BIT(c1, 9)}, {"cx16", BIT(c1, 13)},
        {"sse4.1", BIT(c1, 19)}, {"sse4.2", BIT(c1, 20)}, {"movbe", BIT(c1, 22)},
        {"popcnt", BIT(c1, 23)}, {"aes", BIT(c1, 25)}, {"xsave", BIT(c1, 26)},
        {"osxsave", osxsave}, {"avx", os_avx && BIT(c1, 28)}, {"f16c", os_avx && BIT(c1, 29)},
        {"fma", os_avx && BIT(c1, 12)}, {"lahf_lm", BIT(ce, 0)}, {"lzcnt", BIT(ce, 5)},
        {"sse4a", BIT(ce, 6)}, {"prefetchw", BIT(ce, 8)},
        {"bmi", BIT(b7, 3)}, {"avx2", os_avx && BIT(b7, 5)}, {"bmi2", BIT(b7, 8)},
        {"adx", BIT(b7, 19)}, {"sha", BIT(b7, 29)},
        {"avx512f", os_avx512 && BIT(b7, 16)}, {"avx512dq", os_avx512 && BIT(b7, 17)},
        {"avx512ifma", os_avx512 && BIT(b7, 21)}, {"avx512cd", os_avx512 && BIT(b7, 28)},
        {"avx512bw", os_avx512 && BIT(b7, 30)}, {"avx512vl", os_avx512 && BIT(b7, 31)},
        {"avx512vbmi", os_avx512 && BIT(c7, 1)}, {"avx512vbmi2", os_avx512 && BIT(c7, 6)},
        {"gfni", BIT(c7, 8)}, {"vaes", os_avx && BIT(c7, 9)},
        {"vpclmulqdq", os_avx && BIT(c7, 10)}, {"avx512vnni", os_avx512 && BIT(c7, 11)},
        {"avx512bitalg", os_avx512 && BIT(c7, 12)},
        {"avx512vpopcntdq", os_avx512 && BIT(c7, 14)},
        {"avx512fp16", os_avx512 && BIT(d7, 23)},
        {"avxvnni", os_avx && BIT(a71, 4)}, {"avx512bf16", os_avx512 && BIT(a71, 5)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (add(set, f[i].name, f[i].on) < 0) return -1;
    return 0;
}
#endif

static PyObject *features(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    PyObject *set = PySet_New(NULL);
    if (!set) return NULL;
    char brand[64] = {0};
#if defined(__x86_64__) || defined(__i386__)
    if (fill(set, brand, sizeof brand) < 0) {
        Py_DECREF(set);
        return NULL;
    }
#endif
    PyObject *fs = PyFrozenSet_New(set);
    Py_DECREF(set);
    if (!fs) return NULL;
    const char *p = brand;
    while (*p == ' ') p++;
    return Py_BuildValue("(Ns)", fs, p);
}

static PyMethodDef methods[] = {
    {"features", features, METH_NOARGS,
     "features() -> (frozenset of instruction-set names, CPU brand string)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_cpufeatures",
    "The CPU's instruction sets, read with CPUID (x86; empty elsewhere).", -1, methods,
};

PyMODINIT_FUNC PyInit__cpufeatures(void) { return PyModule_Create(&moduledef); }
