// SPDX-License-Identifier: MIT
/*
 * Actors as fibers (x86-64, outside the sanitizer builds): the stack switch,
 * the pool of stacks reused across runs, and a new fiber's first frame.
 * Only one actor runs at a time, so a switch is all a hand-over needs.
 * Split from sched.c, which decides who runs.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "sched_int.h"

#if NVR_SCHED_FIBERS
/*
 * nvr_fiber_switch(save, to): push the callee-saved registers, store the
 * stack pointer in *save, load @to and pop the registers it saved. A new
 * fiber's stack is laid out so that the pops and the ret land in fiber_boot,
 * which calls r13(r12) with a 16-byte aligned stack.
 */
__asm__(".text\n"
	".p2align 4\n"
	".globl nvr_fiber_switch\n"
	".hidden nvr_fiber_switch\n"
	".type nvr_fiber_switch, @function\n"
	"nvr_fiber_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size nvr_fiber_switch, .-nvr_fiber_switch\n"
	".p2align 4\n"
	"nvr_fiber_boot:\n"
	"	movq %r12, %rdi\n"
	"	callq *%r13\n"
	"	ud2\n");

#define FIBER_STACK (8u << 20)	/* a thread's default; touched pages only */
#define FIBER_GUARD 4096u

/* Stacks of finished runs, reused: a dfs runs thousands of schedules. */
static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static void *stack_pool[2 * NVR_SCHED_MAX_ACTORS];
static int stack_pooled;

void *nvr_fiber_stack_get(void)
{
	void *p = NULL;

	pthread_mutex_lock(&stack_lock);
	if (stack_pooled)
		p = stack_pool[--stack_pooled];
	pthread_mutex_unlock(&stack_lock);
	if (p)
		return p;
	p = mmap(NULL, FIBER_STACK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	mprotect(p, FIBER_GUARD, PROT_NONE);
	return p;
}

void nvr_fiber_stack_put(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&stack_lock);
	if (stack_pooled < (int)(sizeof(stack_pool) / sizeof(stack_pool[0]))) {
		stack_pool[stack_pooled++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&stack_lock);
	if (p)
		munmap(p, FIBER_STACK);
}

void nvr_fiber_init(struct nvr_actor *a, void (*fn)(void *))
{
	uint64_t *sp = (uint64_t *)((char *)a->stack + FIBER_STACK) - 9;
	extern char nvr_fiber_boot[] __asm__("nvr_fiber_boot");

	/* r15 r14 r13 r12 rbx rbp, the return address, padding to keep the call aligned */
	sp[0] = 0;
	sp[1] = 0;
	sp[2] = (uint64_t)(uintptr_t)fn;
	sp[3] = (uint64_t)(uintptr_t)a;
	sp[4] = 0;
	sp[5] = 0;
	sp[6] = (uint64_t)(uintptr_t)nvr_fiber_boot;
	sp[7] = 0;
	sp[8] = 0;
	a->sp = sp;
}
#endif
