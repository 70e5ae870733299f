/* fp: F and D extensions exactly — every arithmetic operation in every rounding mode
   (static and dynamic), the accrued flags after each, NaN handling and NaN-boxing,
   conversions at the edges, fmin/fmax, comparisons, fclass and fused multiply-add.
   Results are printed as bit patterns. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <fenv.h>
#include <math.h>

static unsigned flags(void) { unsigned f; __asm__ volatile("csrrw %0, fflags, zero" : "=r"(f)); return f; }
static uint64_t bd(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t bs(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static double db(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static float fb(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static const uint64_t D[] = { 0x3ff0000000000000, 0xbff0000000000000, 0x3fb999999999999a, 0x4008000000000000, 0x7fe1ccf385ebc8a0,
  0xffe1ccf385ebc8a0, 0x000730d67819e8d2, 0x0000000000000001, 0, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
  0x7ff8000000000000, 0x7ff0000000000001, 0x3fd5555555555555, 0x4340000000000001, 0x3ff0000000000001, 0x7fefffffffffffff, 0x0010000000000000 };
static const uint32_t S[] = { 0x3f800000, 0xbf800000, 0x3dcccccd, 0x40400000, 0x7f000000, 0xff000000, 0x00400000, 0x00000001, 0, 0x80000000,
  0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x3eaaaaab, 0x4b800001, 0x3f800001, 0x7f7fffff, 0x00800000 };
#define ND (sizeof D / sizeof D[0])
#define NS (sizeof S / sizeof S[0])

#define BIN_D(name, insn, rm) static double name(double a, double b) { double r; __asm__ volatile(insn " %0, %1, %2, " rm : "=f"(r) : "f"(a), "f"(b)); return r; }
#define BIN_S(name, insn, rm) static float name(float a, float b) { float r; __asm__ volatile(insn " %0, %1, %2, " rm : "=f"(r) : "f"(a), "f"(b)); return r; }
#define MODES(M, insn, base) M(base##_rne, insn, "rne") M(base##_rtz, insn, "rtz") M(base##_rdn, insn, "rdn") M(base##_rup, insn, "rup") M(base##_rmm, insn, "rmm") M(base##_dyn, insn, "dyn")
MODES(BIN_D, "fadd.d", addd) MODES(BIN_D, "fsub.d", subd) MODES(BIN_D, "fmul.d", muld) MODES(BIN_D, "fdiv.d", divd)
MODES(BIN_S, "fadd.s", adds) MODES(BIN_S, "fsub.s", subs) MODES(BIN_S, "fmul.s", muls) MODES(BIN_S, "fdiv.s", divs)
#define FMA_D(name, insn, rm) static double name(double a, double b, double c) { double r; __asm__ volatile(insn " %0, %1, %2, %3, " rm : "=f"(r) : "f"(a), "f"(b), "f"(c)); return r; }
#define FMA_S(name, insn, rm) static float name(float a, float b, float c) { float r; __asm__ volatile(insn " %0, %1, %2, %3, " rm : "=f"(r) : "f"(a), "f"(b), "f"(c)); return r; }
MODES(FMA_D, "fmadd.d", fmad) MODES(FMA_D, "fnmsub.d", fnmsd) MODES(FMA_S, "fmadd.s", fmas) MODES(FMA_S, "fmsub.s", fmss)
#define UN_D(name, insn, rm) static double name(double a) { double r; __asm__ volatile(insn " %0, %1, " rm : "=f"(r) : "f"(a)); return r; }
#define UN_S(name, insn, rm) static float name(float a) { float r; __asm__ volatile(insn " %0, %1, " rm : "=f"(r) : "f"(a)); return r; }
MODES(UN_D, "fsqrt.d", sqrtd) MODES(UN_S, "fsqrt.s", sqrts)
#define TOI_D(name, insn, rm) static int64_t name(double a) { int64_t r; __asm__ volatile(insn " %0, %1, " rm : "=r"(r) : "f"(a)); return r; }
#define TOI_S(name, insn, rm) static int64_t name(float a) { int64_t r; __asm__ volatile(insn " %0, %1, " rm : "=r"(r) : "f"(a)); return r; }
MODES(TOI_D, "fcvt.w.d", cwd) MODES(TOI_D, "fcvt.wu.d", cwud) MODES(TOI_D, "fcvt.l.d", cld) MODES(TOI_D, "fcvt.lu.d", clud)
MODES(TOI_S, "fcvt.w.s", cws) MODES(TOI_S, "fcvt.lu.s", clus)
#define NAR(name, insn, rm) static float name(double a) { float r; __asm__ volatile(insn " %0, %1, " rm : "=f"(r) : "f"(a)); return r; }
MODES(NAR, "fcvt.s.d", nar)
#define FROMI(name, insn, rm) static double name(int64_t a) { double r; __asm__ volatile(insn " %0, %1, " rm : "=f"(r) : "r"(a)); return r; }
#define FROMIS(name, insn, rm) static float name(int64_t a) { float r; __asm__ volatile(insn " %0, %1, " rm : "=f"(r) : "r"(a)); return r; }
MODES(FROMI, "fcvt.d.l", fdl) MODES(FROMI, "fcvt.d.lu", fdlu) MODES(FROMIS, "fcvt.s.l", fsl) MODES(FROMIS, "fcvt.s.w", fsw)

typedef double (*bd_t)(double, double); typedef float (*bs_t)(float, float);
typedef double (*fd_t)(double, double, double); typedef float (*fs_t)(float, float, float);
typedef double (*ud_t)(double); typedef float (*us_t)(float);
typedef int64_t (*tid_t)(double); typedef int64_t (*tis_t)(float);
typedef float (*nar_t)(double); typedef double (*fi_t)(int64_t); typedef float (*fis_t)(int64_t);
static const char *MN[] = { "rne", "rtz", "rdn", "rup", "rmm", "dyn" };
static const int FE[] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD };

static uint64_t H = 1469598103934665603ULL;
static void mix(uint64_t v) { H = (H ^ v) * 1099511628211ULL; }

int main(void) {
  bd_t bdo[][6] = { { addd_rne, addd_rtz, addd_rdn, addd_rup, addd_rmm, addd_dyn }, { subd_rne, subd_rtz, subd_rdn, subd_rup, subd_rmm, subd_dyn },
    { muld_rne, muld_rtz, muld_rdn, muld_rup, muld_rmm, muld_dyn }, { divd_rne, divd_rtz, divd_rdn, divd_rup, divd_rmm, divd_dyn } };
  bs_t bso[][6] = { { adds_rne, adds_rtz, adds_rdn, adds_rup, adds_rmm, adds_dyn }, { subs_rne, subs_rtz, subs_rdn, subs_rup, subs_rmm, subs_dyn },
    { muls_rne, muls_rtz, muls_rdn, muls_rup, muls_rmm, muls_dyn }, { divs_rne, divs_rtz, divs_rdn, divs_rup, divs_rmm, divs_dyn } };
  const char *bn[] = { "add", "sub", "mul", "div" };
  for (int o = 0; o < 4; o++)
    for (int m = 0; m < 6; m++) {
      uint64_t hd = 0, hs = 0;
      if (m == 5) fesetround(FE[(o + 1) % 4]);
      for (unsigned i = 0; i < ND; i++)
        for (unsigned j = 0; j < ND; j++) {
          flags();
          double r = bdo[o][m](db(D[i]), db(D[j]));
          mix(bd(r)); mix(flags());
          float s = bso[o][m](fb(S[i]), fb(S[j]));
          mix(bs(s)); mix(flags());
          hd = hd * 31 + bd(r); hs = hs * 31 + bs(s);
        }
      fesetround(FE_TONEAREST);
      printf("%s.%s d=%016llx s=%016llx H=%016llx\n", bn[o], MN[m], (unsigned long long)hd, (unsigned long long)hs, (unsigned long long)H);
    }
  fd_t fdo[][6] = { { fmad_rne, fmad_rtz, fmad_rdn, fmad_rup, fmad_rmm, fmad_dyn }, { fnmsd_rne, fnmsd_rtz, fnmsd_rdn, fnmsd_rup, fnmsd_rmm, fnmsd_dyn } };
  fs_t fso[][6] = { { fmas_rne, fmas_rtz, fmas_rdn, fmas_rup, fmas_rmm, fmas_dyn }, { fmss_rne, fmss_rtz, fmss_rdn, fmss_rup, fmss_rmm, fmss_dyn } };
  for (int o = 0; o < 2; o++)
    for (int m = 0; m < 6; m++) {
      if (m == 5) fesetround(FE_UPWARD);
      for (unsigned i = 0; i < ND; i += 2)
        for (unsigned j = 1; j < ND; j += 3)
          for (unsigned k = 0; k < ND; k++) {
            flags();
            mix(bd(fdo[o][m](db(D[i]), db(D[j]), db(D[k])))); mix(flags());
            mix(bs(fso[o][m](fb(S[i]), fb(S[j]), fb(S[k])))); mix(flags());
          }
      fesetround(FE_TONEAREST);
      printf("fma%d.%s H=%016llx\n", o, MN[m], (unsigned long long)H);
    }
  /* The classic case where fused and unfused differ. */
  double a = 1.0 + 0x1p-30, b = 1.0 - 0x1p-30;
  printf("fma(%a,%a,-1)=%a unfused=%a\n", a, b, fma(a, b, -1.0), a * b - 1.0);
  ud_t sq[] = { sqrtd_rne, sqrtd_rtz, sqrtd_rdn, sqrtd_rup, sqrtd_rmm, sqrtd_dyn };
  us_t sqs[] = { sqrts_rne, sqrts_rtz, sqrts_rdn, sqrts_rup, sqrts_rmm, sqrts_dyn };
  for (int m = 0; m < 6; m++) {
    for (unsigned i = 0; i < ND; i++) {
      flags(); mix(bd(sq[m](db(D[i])))); mix(flags());
      flags(); mix(bs(sqs[m](fb(S[i])))); mix(flags());
    }
    printf("sqrt.%s H=%016llx\n", MN[m], (unsigned long long)H);
  }
  const double cv[] = { 0.5, -0.5, 1.5, 2.5, -2.5, 2147483647.5, 2147483648.0, -2147483649.0, 4294967296.0, -1.0, 1e19, 1.8446744073709552e19,
    9.3e18, -9.3e18, 0.0 / 0.0, 1.0 / 0.0, -1.0 / 0.0, -0.0, 1e-300 };
  tid_t ti[][6] = { { cwd_rne, cwd_rtz, cwd_rdn, cwd_rup, cwd_rmm, cwd_dyn }, { cwud_rne, cwud_rtz, cwud_rdn, cwud_rup, cwud_rmm, cwud_dyn },
    { cld_rne, cld_rtz, cld_rdn, cld_rup, cld_rmm, cld_dyn }, { clud_rne, clud_rtz, clud_rdn, clud_rup, clud_rmm, clud_dyn } };
  tis_t tis[][6] = { { cws_rne, cws_rtz, cws_rdn, cws_rup, cws_rmm, cws_dyn }, { clus_rne, clus_rtz, clus_rdn, clus_rup, clus_rmm, clus_dyn } };
  const char *tn[] = { "w.d", "wu.d", "l.d", "lu.d", "w.s", "lu.s" };
  for (int o = 0; o < 6; o++)
    for (int m = 0; m < 6; m++) {
      printf("fcvt.%s.%s", tn[o], MN[m]);
      for (unsigned i = 0; i < sizeof cv / sizeof cv[0]; i++) {
        flags();
        int64_t r = o < 4 ? ti[o][m](cv[i]) : tis[o - 4][m]((float)cv[i]);
        printf(" %llx/%x", (unsigned long long)r, flags());
      }
      printf("\n");
    }
  nar_t na[] = { nar_rne, nar_rtz, nar_rdn, nar_rup, nar_rmm, nar_dyn };
  fi_t fi[][6] = { { fdl_rne, fdl_rtz, fdl_rdn, fdl_rup, fdl_rmm, fdl_dyn }, { fdlu_rne, fdlu_rtz, fdlu_rdn, fdlu_rup, fdlu_rmm, fdlu_dyn } };
  fis_t fis[][6] = { { fsl_rne, fsl_rtz, fsl_rdn, fsl_rup, fsl_rmm, fsl_dyn }, { fsw_rne, fsw_rtz, fsw_rdn, fsw_rup, fsw_rmm, fsw_dyn } };
  const int64_t iv[] = { 0, 1, -1, 0x7fffffffffffffffLL, (int64_t)0x8000000000000000ULL, 0x20000000000001LL, 0x1000001, -0x1000003, 0x7fffffff, 123456789012345LL };
  for (int m = 0; m < 6; m++) {
    printf("narrow.%s", MN[m]);
    for (unsigned i = 0; i < ND; i++) { flags(); float r = na[m](db(D[i])); printf(" %08x/%x", bs(r), flags()); }
    printf("\nfromint.%s", MN[m]);
    for (unsigned i = 0; i < sizeof iv / sizeof iv[0]; i++) {
      flags(); double r1 = fi[0][m](iv[i]); unsigned f1 = flags();
      double r2 = fi[1][m](iv[i]); unsigned f2 = flags();
      float r3 = fis[0][m](iv[i]); unsigned f3 = flags();
      float r4 = fis[1][m](iv[i]); unsigned f4 = flags();
      printf(" %llx/%x,%llx/%x,%x/%x,%x/%x", (unsigned long long)bd(r1), f1, (unsigned long long)bd(r2), f2, bs(r3), f3, bs(r4), f4);
    }
    printf("\n");
  }
  /* min/max, comparisons and classification on every pair / value. */
  for (unsigned i = 0; i < ND; i++) {
    uint64_t acc = 0;
    for (unsigned j = 0; j < ND; j++) {
      double x = db(D[i]), y = db(D[j]), r; int64_t c;
      flags(); __asm__ volatile("fmin.d %0, %1, %2" : "=f"(r) : "f"(x), "f"(y)); acc = acc * 31 + bd(r) + flags();
      __asm__ volatile("fmax.d %0, %1, %2" : "=f"(r) : "f"(x), "f"(y)); acc = acc * 31 + bd(r) + flags();
      __asm__ volatile("feq.d %0, %1, %2" : "=r"(c) : "f"(x), "f"(y)); acc = acc * 31 + c + flags();
      __asm__ volatile("flt.d %0, %1, %2" : "=r"(c) : "f"(x), "f"(y)); acc = acc * 31 + c + flags();
      __asm__ volatile("fle.d %0, %1, %2" : "=r"(c) : "f"(x), "f"(y)); acc = acc * 31 + c + flags();
      float xs = fb(S[i]), ys = fb(S[j]), rs;
      __asm__ volatile("fmin.s %0, %1, %2" : "=f"(rs) : "f"(xs), "f"(ys)); acc = acc * 31 + bs(rs) + flags();
      __asm__ volatile("fmax.s %0, %1, %2" : "=f"(rs) : "f"(xs), "f"(ys)); acc = acc * 31 + bs(rs) + flags();
      __asm__ volatile("flt.s %0, %1, %2" : "=r"(c) : "f"(xs), "f"(ys)); acc = acc * 31 + c + flags();
      __asm__ volatile("fsgnjx.d %0, %1, %2" : "=f"(r) : "f"(x), "f"(y)); acc = acc * 31 + bd(r);
      __asm__ volatile("fsgnjn.s %0, %1, %2" : "=f"(rs) : "f"(xs), "f"(ys)); acc = acc * 31 + bs(rs);
    }
    int64_t cd, cs;
    __asm__ volatile("fclass.d %0, %1" : "=r"(cd) : "f"(db(D[i])));
    __asm__ volatile("fclass.s %0, %1" : "=r"(cs) : "f"(fb(S[i])));
    printf("cmp %016llx %016llx class %03llx %03llx\n", (unsigned long long)D[i], (unsigned long long)acc, (unsigned long long)cd, (unsigned long long)cs);
  }
  /* NaN-boxing: a single written with fmv.w.x is boxed; a double read as a single is a canonical NaN. */
  double boxed; float sres; int64_t raw;
  __asm__ volatile("fmv.w.x %0, %1" : "=f"(boxed) : "r"(0x40490fdbL));
  __asm__ volatile("fmv.x.d %0, %1" : "=r"(raw) : "f"(boxed));
  printf("boxed %016llx\n", (unsigned long long)raw);
  __asm__ volatile("fadd.s %0, %1, %1" : "=f"(sres) : "f"(1.0));
  printf("unboxed-as-single %08x flags %x\n", bs(sres), flags());
  __asm__ volatile("fmv.x.w %0, %1" : "=r"(raw) : "f"(fb(0xff800001)));
  printf("fmv.x.w sign-extends %016llx\n", (unsigned long long)raw);
  double widened; __asm__ volatile("fcvt.d.s %0, %1" : "=f"(widened) : "f"(fb(0x7f800001)));
  printf("widen sNaN %016llx flags %x\n", (unsigned long long)bd(widened), flags());
  printf("frm after fesetround(FE_DOWNWARD): "); fesetround(FE_DOWNWARD); unsigned frm; __asm__ volatile("frrm %0" : "=r"(frm)); printf("%u\n", frm);
  fesetround(FE_TONEAREST);
  printf("final %016llx\n", (unsigned long long)H);
  return 0;
}
