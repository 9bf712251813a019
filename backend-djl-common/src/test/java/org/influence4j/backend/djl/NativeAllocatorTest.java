package org.influence4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
     * glibc's own accounting ({@code mallinfo2}): with its initial mmap threshold (128 KiB) a 24 MiB
     * block is a fresh mapping; with the policy applied it comes from a heap.
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
        assumeTrue(NativeAllocator.mappedBytes() >= 0, "glibc before 2.33 has no mallinfo2");
        Map<String, String> untuned = Map.of();
        try {
            assertEquals(1, mallopt.invokeInt(new Object[] {-3, 128 << 10})); // M_MMAP_THRESHOLD: glibc's initial value
            assertTrue(mappedBytesOfABlock(24L << 20) >= 24L << 20, "a 24 MiB block is mapped at a 128 KiB threshold");
        } finally {
            assertEquals(NativeAllocator.Outcome.APPLIED, NativeAllocator.retainFreedMemory(null, untuned));
        }
        assertEquals(0, mappedBytesOfABlock(24L << 20), "a 24 MiB block comes from a heap at a 32 MiB threshold");
        assertTrue(mappedBytesOfABlock(48L << 20) >= 48L << 20, "a 48 MiB block is still mapped");
    }

    /**
     * @return how much glibc's mapped bytes ({@link NativeAllocator#mappedBytes}) grow while a block of
     *     {@code bytes} from {@code malloc} is held
     */
    static long mappedBytesOfABlock(long bytes) {
        Function malloc = Function.getFunction("c", "malloc");
        Function free = Function.getFunction("c", "free");
        long before = NativeAllocator.mappedBytes();
        Pointer block = malloc.invokePointer(new Object[] {bytes});
        try {
            return NativeAllocator.mappedBytes() - before;
        } finally {
            free.invokeVoid(new Object[] {block});
        }
    }
}
