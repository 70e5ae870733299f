/* forkmap: a fork- and mmap-heavy workload for the booted kernel.
 *
 * Its point is the page-table traffic a real OS generates, which memory-virtualization
 * strategies (shadow paging, SSP) pay for: every fork copies the parent's page tables
 * and write-protects its private pages, the copy-on-write faults that follow install
 * new pages, every mmap/munmap/mprotect edits the tables and flushes TLB entries
 * (sfence.vma), and every exit tears an address space down.
 *
 *   forkmap [ROUNDS]      (default 24)
 *
 * Each round forks a child that writes to some of the parent's pages (copy-on-write),
 * maps, touches, protects and unmaps fresh anonymous regions, and exits with a
 * checksum of what it saw; the parent meanwhile maps and unmaps a region of its own.
 * The output is one line per few rounds and a total, the same on every run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define SHARED_PAGES 64
#define CHILD_PAGES 32

static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193u;
	return h;
}

static void *map(size_t pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("forkmap: mmap");
		exit(2);
	}
	return p;
}

/* The child's work: copy-on-write writes into the parent's pages, then a private
 * region mapped, touched, partly write-protected and unmapped, twice. */
static uint32_t child(uint8_t *shared, int round)
{
	uint32_t h = 0x811c9dc5u;
	for (int pg = round % 3; pg < SHARED_PAGES; pg += 3) {
		shared[pg * PAGE + round] ^= (uint8_t)(pg + round);
		h = mix(h, shared[pg * PAGE + round]);
	}
	for (int pass = 0; pass < 2; pass++) {
		uint8_t *mine = map(CHILD_PAGES);
		for (int pg = 0; pg < CHILD_PAGES; pg++)
			mine[pg * PAGE + pass] = (uint8_t)(pg * 7 + round + pass);
		if (mprotect(mine, CHILD_PAGES / 2 * PAGE, PROT_READ) != 0) {
			perror("forkmap: mprotect");
			exit(2);
		}
		for (int pg = 0; pg < CHILD_PAGES; pg++)
			h = mix(h, mine[pg * PAGE + pass]);
		munmap(mine, CHILD_PAGES * PAGE);
	}
	return h;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 24;
	uint8_t *shared = map(SHARED_PAGES);
	for (int pg = 0; pg < SHARED_PAGES; pg++)
		memset(shared + pg * PAGE, pg, PAGE);

	uint32_t total = 0x811c9dc5u;
	for (int round = 0; round < rounds; round++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("forkmap: fork");
			return 2;
		}
		if (pid == 0)
			_exit(child(shared, round) & 0xff);

		/* The parent's own churn while the child runs: a region mapped, touched and
		 * unmapped, and a write to a shared page that the child must not see. */
		uint8_t *scratch = map(8);
		for (int pg = 0; pg < 8; pg++)
			scratch[pg * PAGE] = (uint8_t)(round + pg);
		shared[(round % SHARED_PAGES) * PAGE] += scratch[PAGE];
		munmap(scratch, 8 * PAGE);

		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
			fprintf(stderr, "forkmap: child %d did not exit normally\n", round);
			return 3;
		}
		total = mix(total, (uint32_t)WEXITSTATUS(status));
		if (round % 8 == 7)
			printf("forkmap: %d rounds, checksum %08x\n", round + 1, total);
	}
	uint32_t parent = 0x811c9dc5u;
	for (int pg = 0; pg < SHARED_PAGES; pg++)
		parent = mix(parent, shared[pg * PAGE]);
	printf("forkmap: %d forks done, children %08x, parent %08x\n", rounds, total, parent);
	return 0;
}
