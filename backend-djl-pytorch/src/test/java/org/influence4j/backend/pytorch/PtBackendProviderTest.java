package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;

import org.influence4j.api.BackendProvider;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.backend.djl.NativeAllocator;
import org.influence4j.backend.testkit.AbstractBackendProviderTest;
import org.junit.jupiter.api.Test;

/** The shared provider checks for {@link PtBackendProvider}, plus its platform and missing-native handling. */
class PtBackendProviderTest extends AbstractBackendProviderTest {

    @Override
    protected BackendProvider newProvider() {
        return new PtBackendProvider();
    }

    @Override
    protected String expectedName() {
        return "djl-pytorch";
    }

    @Override
    protected int expectedRank() {
        return 0;
    }

    @Override
    protected String expectedVersion() {
        return "DJL 0.35.1 / PyTorch 2.7.1";
    }

    @Override
    protected void assertEnvironmentPrepared() {
        assertEquals("true", System.getProperty("ai.djl.offline"));
    }

    /**
     * With the backend loaded, glibc serves libtorch a 24 MiB array from its heaps instead of a fresh
     * mapping ({@link NativeAllocator}; glibc's own threshold starts at 128 KiB). glibc's mapped bytes
     * are process-wide and other threads map and unmap blocks of their own meanwhile (a CI run saw
     * them fall by 528 KiB), so the check is that they did not grow by the array's size.
     */
    @Test
    void loadingTheBackendSetsGlibcToServeBlocksBelow32MiBFromItsHeaps() {
        assumeTrue(NativeAllocator.mappedBytes() >= 0, "needs glibc 2.33 or later");
        assumeTrue(System.getProperty(BackendProvider.RETAIN_FREED_MEMORY_PROPERTY) == null
                && !NativeAllocator.environmentSetsThresholds(System.getenv()),
                "the allocator is configured from outside");
        org.influence4j.api.Backend backend = newProvider().create();
        try (TensorScope scope = backend.newScope()) {
            long before = NativeAllocator.mappedBytes();
            Tensor array = scope.zeros(DType.FLOAT32, 6L << 20);
            long grown = NativeAllocator.mappedBytes() - before;
            assertTrue(grown < 6L << 22, "a 24 MiB array of " + array.numel() + " floats was mapped (mapped bytes grew by "
                    + grown + ")");
        }
    }

    @Test
    void theThreadsPropertyBecomesDjlsPyTorchThreadProperties() {
        Map<String, String> saved = new java.util.HashMap<>();
        String[] keys = {BackendProvider.THREADS_PROPERTY, "ai.djl.pytorch.num_threads", "ai.djl.pytorch.num_interop_threads"};
        for (String k : keys) {
            saved.put(k, System.getProperty(k));
        }
        try {
            System.setProperty(BackendProvider.THREADS_PROPERTY, "3");
            PtBackendProvider.applyThreads();
            assertEquals("3", System.getProperty("ai.djl.pytorch.num_threads"));
            assertEquals("1", System.getProperty("ai.djl.pytorch.num_interop_threads"));
            System.setProperty(BackendProvider.THREADS_PROPERTY, "zero");
            IllegalStateException e = assertThrows(IllegalStateException.class, PtBackendProvider::applyThreads);
            assertTrue(e.getMessage().startsWith(BackendProvider.THREADS_PROPERTY + ": must be"), e.getMessage());
            System.setProperty(BackendProvider.THREADS_PROPERTY, "0");
            assertThrows(IllegalStateException.class, PtBackendProvider::applyThreads);
        } finally {
            for (String k : keys) {
                if (saved.get(k) == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, saved.get(k));
                }
            }
        }
    }

    /**
     * Intra-op threads are set per calling thread: another thread's value is its own, and the
     * caller's stays as it was.
     */
    @Test
    void intraOpThreadsAreSetPerCallingThread() throws Exception {
        org.influence4j.api.Backend backend = newProvider().create();
        int mine = backend.callingThreadOpThreads();
        assertTrue(mine >= 1, "libtorch reports " + mine);
        int[] seen = new int[2];
        Thread worker = new Thread(() -> {
            seen[0] = backend.setCallingThreadOpThreads(1) ? 1 : 0;
            seen[1] = backend.callingThreadOpThreads();
        });
        worker.start();
        worker.join();
        assertEquals(1, seen[0], "set");
        assertEquals(1, seen[1], "the worker's own value");
        assertEquals(mine, backend.callingThreadOpThreads(), "the caller's value");
        backend.setCallingThreadOpThreads(mine); // the engine's default for new threads, as TracIn's callers do
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.setCallingThreadOpThreads(0));
        assertTrue(e.getMessage().startsWith("threads:"), e.getMessage());
    }

    @Test
    void platformClassifierMatchesDjlNaming() {
        String p = PtBackendProvider.platform();
        assertTrue(p.matches("(linux|osx|win)-(x86_64|aarch64)"), p);
    }
}
