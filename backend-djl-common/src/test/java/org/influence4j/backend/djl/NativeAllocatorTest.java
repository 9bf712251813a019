package org.influence4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Function;
import com.sun.jna.Pointer;
import java.util.Map;
import org.influence4j.api.BackendProvider;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {

    @Test
    void thePropertyAndTheEnvironmentDecideWhetherItApplies() {
        assertEquals(NativeAllocator.Outcome.DISABLED, NativeAllocator.retainFreedMemory("false", Map.of()));
        assertEquals(NativeAllocator.Outcome.DISABLED, NativeAllocator.retainFreedMemory(" FALSE ", Map.of()));
        IllegalStateException bad = assertThrows(IllegalStateException.class,
                () -> NativeAllocator.retainFreedMemory("yes", Map.of()));
        assertEquals(BackendProvider.RETAIN_FREED_MEMORY_PROPERTY + ": must be true or false, got 'yes'",
                bad.getMessage());
        for (Map<String, String> tuned : java.util.List.of(
                Map.of("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=1:glibc.malloc.trim_threshold=1"),
                Map.of("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1"), Map.of("MALLOC_MMAP_THRESHOLD_", "1"),
                Map.of("MALLOC_TRIM_THRESHOLD_", "1"))) {
            assertEquals(NativeAllocator.Outcome.ENVIRONMENT, NativeAllocator.retainFreedMemory("true", tuned),
                    tuned.toString());
        }
    }

    /**
     * glibc's own mark on each block (the {@code IS_MMAPPED} bit of the chunk's size field): with its
     * initial mmap threshold (128 KiB) a 24 MiB block is a fresh mapping; with the policy applied it
     * comes from a heap. The mark belongs to the block, so other threads' allocations cannot blur it
     * as they can the process-wide {@code mallinfo2} counts.
     */
    @Test
    void aBlockBelowTheThresholdComesFromAHeapOnceApplied() {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux"));
        Function mallopt;
        try {
            Function.getFunction("c", "gnu_get_libc_version");
            mallopt = Function.getFunction("c", "mallopt");
        } catch (UnsatisfiedLinkError e) {
            assumeTrue(false, "not glibc: " + e.getMessage());
            return;
        }
        Map<String, String> untuned = Map.of();
        try {
            assertEquals(1, mallopt.invokeInt(new Object[] {-3, 128 << 10})); // M_MMAP_THRESHOLD: glibc's initial value
            assertTrue(isMappedOnItsOwn(24L << 20), "a 24 MiB block is mapped at a 128 KiB threshold");
        } finally {
            assertEquals(NativeAllocator.Outcome.APPLIED, NativeAllocator.retainFreedMemory(null, untuned));
        }
        assertFalse(isMappedOnItsOwn(24L << 20), "a 24 MiB block comes from a heap at a 32 MiB threshold");
        assertTrue(isMappedOnItsOwn(48L << 20), "a 48 MiB block is still mapped");
    }

    /**
     * @return whether glibc served a {@code malloc} of {@code bytes} as a mapping of its own: bit 1
     *     ({@code IS_MMAPPED}) of the size field that precedes the block's address
     */
    static boolean isMappedOnItsOwn(long bytes) {
        Pointer block = Function.getFunction("c", "malloc").invokePointer(new Object[] {bytes});
        assertNotNull(block, "malloc(" + bytes + ")");
        try {
            return (block.getLong(-Long.BYTES) & 2) != 0;
        } finally {
            Function.getFunction("c", "free").invokeVoid(new Object[] {block});
        }
    }
}
