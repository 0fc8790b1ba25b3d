/*
 * fuzz.h: what every fuzz target shares.
 *
 * A target is one function, LLVMFuzzerTestOneInput, fed either by
 * libFuzzer (`make fuzz`, clang -fsanitize=fuzzer) or by fuzz/driver.c,
 * a plain main() that feeds it files, so that the seed corpus and every
 * crash-regression input run in `make check` with any compiler.
 *
 * The readers under test take a path, so a target writes its input to a
 * scratch file first (fuzz_scratch): one per process, reused across
 * inputs, removed at exit.
 */
#ifndef SP_FUZZ_H
#define SP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Writes data[0..size) to this process's scratch file whose name ends in
 * `suffix` (".pipe", ".gz", ".db", ...) and returns its path (static
 * storage; valid until the next call).  SQLite's side files of the path
 * (-journal, -wal, -shm) are removed first.  Aborts when the file cannot
 * be written: that is the harness failing, not the code under test.
 */
const char *fuzz_scratch(const uint8_t *data, size_t size,
			 const char *suffix);

#endif /* SP_FUZZ_H */
