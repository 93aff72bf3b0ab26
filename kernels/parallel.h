// parallel_for: the one way Graft uses more than one core. A persistent pool of
// worker threads (GRAFT_NUM_THREADS, or the hardware's count) runs the chunks of
// a range; the calling thread takes part. Kernels never start threads of their
// own. Calls nested inside a parallel region run inline on the calling thread.
//
// Determinism: parallel_for only decides which thread runs which chunk. Code
// whose result could depend on the split (reductions) must fix its own chunk
// boundaries independently of the thread count, e.g. with for_each_block.
#pragma once

#include <cstdint>
#include <functional>

namespace graft {

// Runs fn(chunk_begin, chunk_end) over [begin, end) in chunks of at least
// `grain` elements (all inline if the range is smaller than 2 * grain).
// An exception thrown by fn is rethrown on the calling thread.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

// Runs fn(block_index, block_begin, block_end) for the fixed blocks
// [i*block, min((i+1)*block, n)): the blocks are the same whatever the thread
// count, so per-block partial results combined in block order are reproducible.
void for_each_block(int64_t n, int64_t block, const std::function<void(int64_t, int64_t, int64_t)>& fn);

int get_num_threads();
// Resizes the pool (n >= 1). Not to be called from inside a parallel region.
void set_num_threads(int n);
bool in_parallel_region();

}  // namespace graft
