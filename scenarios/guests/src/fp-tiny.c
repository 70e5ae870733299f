/* fp-tiny: the underflow flag at the edge of the normal range. RISC-V detects
   tininess after rounding: a result that is inexact and whose value, rounded with an
   unbounded exponent, lies below the least normal raises UF — even when the delivered
   result is exactly FLT_MIN or DBL_MIN. Every F and D operation and conversion that
   can produce such a result, in every rounding mode, prints its result and flags. */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const int modes[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };
static const char *mode_names[] = { "rne", "rtz", "rdn", "rup" };

static unsigned flags(void) {
  unsigned f;
  __asm__ volatile("frflags %0" : "=r"(f));
  return f;
}
static void clear(void) { __asm__ volatile("fsflags zero"); }

static uint32_t fbits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static uint64_t dbits(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }

#define OPS(T, op) \
  static T op##_##T(T a, T b) __attribute__((noinline)); \
  static T op##_##T(T a, T b)

OPS(float, add) { return a + b; }
OPS(float, mul) { return a * b; }
OPS(float, div) { return a / b; }
OPS(double, add) { return a + b; }
OPS(double, mul) { return a * b; }
OPS(double, div) { return a / b; }
static float __attribute__((noinline)) fma_f(float a, float b, float c) { return fmaf(a, b, c); }
static double __attribute__((noinline)) fma_d(double a, double b, double c) { return fma(a, b, c); }
static float __attribute__((noinline)) narrow(double a) { return (float)a; }

int main(void) {
  const double below[] = {
    0x1.fffffep-127,   /* FLT_MIN·(1 − 2^-24): exactly halfway under unbounded rounding */
    0x1.ffffffp-127,   /* halfway between the largest subnormal and FLT_MIN */
    0x1.fffffe8p-127, 0x1.ffffff8p-127, 0x1.fffffffffp-127, 0x1.fffffc4p-127,
    -0x1.ffffffp-127, -0x1.fffffffffp-127, 0x1p-126, 0x1.0000001p-126, 0x1p-150, 0x1.8p-150, 0x1p-149,
  };
  for (int m = 0; m < 4; m++) {
    fesetround(modes[m]);
    for (unsigned i = 0; i < sizeof below / sizeof below[0]; i++) {
      clear();
      float r = narrow(below[i]);
      printf("%s fcvt.s.d %a -> %08x flags %02x\n", mode_names[m], below[i], fbits(r), flags());
    }
    /* Single operations landing just below FLT_MIN. */
    const float fa = 0x1.fffffep-64f, fb = 0x1.000002p-63f;
    struct { const char *name; float a, b; } fs[] = {
      { "fmul.s", 0x1.fffffep-64f, 0x1p-63f },      /* FLT_MIN·(1 − 2^-24): rounds up to FLT_MIN, yet tiny */
      { "fmul.s", fa, fa },                          /* just below, inexact */
      { "fmul.s", fb, 0x1.fffffcp-64f },
      { "fdiv.s", 0x1.fffffep-1f, 0x1.000002p+126f },
      { "fdiv.s", 0x1p-126f, 0x1.000001p0f },
      { "fadd.s", 0x1p-126f, -0x1p-149f },           /* exact subnormal: no UF */
    };
    for (unsigned i = 0; i < sizeof fs / sizeof fs[0]; i++) {
      clear();
      float r = fs[i].name[1] == 'm' ? mul_float(fs[i].a, fs[i].b) : fs[i].name[1] == 'd' ? div_float(fs[i].a, fs[i].b) : add_float(fs[i].a, fs[i].b);
      printf("%s %s %a %a -> %08x flags %02x\n", mode_names[m], fs[i].name, fs[i].a, fs[i].b, fbits(r), flags());
    }
    clear();
    float rf = fma_f(0x1.fffffep-64f, 0x1.fffffep-64f, 0x1p-149f);
    printf("%s fmadd.s -> %08x flags %02x\n", mode_names[m], fbits(rf), flags());
    /* Double operations landing just below DBL_MIN. */
    const double da = 0x1.fffffffffffffp-512, db = 0x1.0000000000001p-511;
    struct { const char *name; double a, b; } ds[] = {
      { "fmul.d", da, da },
      { "fmul.d", db, 0x1.ffffffffffffep-512 },
      { "fmul.d", 0x1.fffffffffffffp-512, 0x1p-511 }, /* DBL_MIN·(1 − 2^-53): rounds up to DBL_MIN, yet tiny */
      { "fdiv.d", 0x1p-1022, 0x1.0000000000001p0 },
      { "fdiv.d", 0x1.fffffffffffffp-1, 0x1.0000000000001p+1022 },
      { "fadd.d", 0x1p-1022, -0x1p-1074 },
    };
    for (unsigned i = 0; i < sizeof ds / sizeof ds[0]; i++) {
      clear();
      double r = ds[i].name[1] == 'm' ? mul_double(ds[i].a, ds[i].b) : ds[i].name[1] == 'd' ? div_double(ds[i].a, ds[i].b) : add_double(ds[i].a, ds[i].b);
      printf("%s %s %a %a -> %016llx flags %02x\n", mode_names[m], ds[i].name, ds[i].a, ds[i].b, (unsigned long long)dbits(r), flags());
    }
    clear();
    double rd = fma_d(da, da, 0x1p-1074);
    printf("%s fmadd.d -> %016llx flags %02x\n", mode_names[m], (unsigned long long)dbits(rd), flags());
    clear();
    rd = fma_d(0x1p-1022, 0x1.fffffffffffffp-1, -0x1p-1074);
    printf("%s fmadd.d below -> %016llx flags %02x\n", mode_names[m], (unsigned long long)dbits(rd), flags());
  }
  return 0;
}
