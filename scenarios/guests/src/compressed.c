/* compressed: code in which the compiler emits many RVC forms (c.li, c.addi, c.addiw,
   c.lui, c.slli, c.srli, c.srai, c.andi, c.sub, c.xor, c.or, c.and, c.subw, c.addw,
   c.lw, c.ld, c.sw, c.sd, c.lwsp, c.ldsp, c.swsp, c.sdsp, c.fld, c.fsd, c.j, c.jr,
   c.jalr, c.beqz, c.bnez, c.mv, c.add, c.addi4spn, c.addi16sp), plus a few written
   out in assembly. */
#include <stdio.h>
#include <stdint.h>

struct node { int32_t a; int32_t b; int64_t c; double d; struct node *next; };

__attribute__((noinline)) static int64_t walk(struct node *n, int depth) {
  int64_t s = 0;
  while (n) {
    s += n->a - n->b;
    s ^= n->c << 3;
    s = (s >> 2) | (s & 0xff);
    s += (int32_t)(n->a * 3) - (int32_t)(n->b + 7);
    n->d += 1.5;
    n = n->next;
  }
  return depth ? s + walk(NULL, depth - 1) : s;
}

__attribute__((noinline)) static int64_t big_frame(int64_t x) {
  volatile int64_t buf[70];
  for (int i = 0; i < 70; i++) buf[i] = x * i;
  int64_t s = 0;
  for (int i = 69; i >= 0; i -= 3) s += buf[i];
  return s;
}

int main(void) {
  static struct node nodes[16];
  for (int i = 0; i < 16; i++) {
    nodes[i].a = i * 100003;
    nodes[i].b = -i * 7;
    nodes[i].c = (int64_t)i << 40;
    nodes[i].d = i;
    nodes[i].next = i < 15 ? &nodes[i + 1] : NULL;
  }
  int64_t total = 0;
  for (int r = 0; r < 100; r++) total += walk(nodes, 3);
  int64_t asmres;
  __asm__ volatile(
    ".option push\n.option rvc\n"
    "c.li %0, 5\n c.addi %0, 7\n c.slli %0, 3\n c.addiw %0, -1\n"
    ".option pop\n" : "=r"(asmres));
  printf("total %lld frame %lld d15 %.1f asm %lld\n", (long long)total, (long long)big_frame(total & 0xffff), nodes[15].d, (long long)asmres);
  return 0;
}
