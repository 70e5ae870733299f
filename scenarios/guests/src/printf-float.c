/* printf-float: glibc's float formatting and parsing — %f %e %g %a at several
   precisions, subnormals, infinities and NaNs, huge and tiny values, and strtod. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <float.h>

int main(void) {
  const double v[] = { 0.0, -0.0, 1.0, -1.5, 0.1, 1.0 / 3.0, 2.0 / 3.0, 123456.789, 1e-5, 1e21, 6.02214076e23, DBL_MAX, DBL_MIN, 4.9e-324,
    2.2250738585072009e-308, INFINITY, -INFINITY, NAN, M_PI, M_E, 0.5, 2.5, 1e-300 * 1e-10, 9007199254740993.0 };
  for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
    printf("%f | %.0f | %.3f | %.17g | %e | %.2e | %g | %a | %10.4f|\n", v[i], v[i], v[i], v[i], v[i], v[i], v[i], v[i], v[i]);
  }
  const float f[] = { 0.1f, 1.0f / 3.0f, 16777217.0f, FLT_MAX, FLT_MIN, 1e-45f };
  for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++) printf("%.9g %a\n", f[i], f[i]);
  const char *s[] = { "3.14159", "1e308", "1e309", "-2.5e-320", "0x1.8p3", "inf", "nan", "  42.5xyz", "0.1e-5" };
  for (unsigned i = 0; i < sizeof s / sizeof s[0]; i++) {
    char *end;
    double d = strtod(s[i], &end);
    printf("strtod(\"%s\") = %.17g rest=\"%s\"\n", s[i], d, end);
  }
  printf("%.60f\n", 0.1);
  printf("%5.1f%% %+d %x %o %s %c\n", 99.5, 42, 255, 8, "str", 'c');
  return 0;
}
