package org.influence4j.backend.djl;

import com.sun.jna.Function;
import com.sun.jna.Structure;
import java.util.Locale;
import java.util.Map;
import org.influence4j.api.BackendProvider;

/**
 * The C allocator policy that a DJL backend applies when its engine loads
 * ({@link BackendProvider#RETAIN_FREED_MEMORY_PROPERTY}): on Linux with glibc, {@code malloc} keeps
 * freed blocks of up to {@value #MMAP_THRESHOLD_BYTES} bytes in its heaps and gives a heap's free
 * top back to the kernel only beyond {@value #TRIM_THRESHOLD_BYTES} bytes ({@code mallopt}'s
 * {@code M_MMAP_THRESHOLD} and {@code M_TRIM_THRESHOLD}, as {@code GLIBC_TUNABLES} would set them).
 *
 * <p>Why: a pass over a batch allocates and frees tensors of a few megabytes each. With glibc's
 * defaults a process that queries before it has freed large blocks (the command line, a service
 * that loads checkpoints) often gets them from fresh mappings (the moving threshold starts at
 * 128 KiB) or from heap memory returned to the kernel after the previous pass, so every page is
 * faulted in and zeroed again. On the Fashion-MNIST CNN's TracInCPFast self-influence (2,000
 * images, 4 checkpoints loaded from files, 2 vCPUs): 0.8-0.9 million page faults in most such
 * processes, and 0.11-0.14 million with this policy. The values are glibc's own ceilings for its
 * moving thresholds (32 MiB on 64-bit, trim at twice that), applied from the start instead of
 * after the first large frees; the retained heap raises peak RSS by tens of megabytes.
 *
 * <p>Process-wide; a provider calls it once, before its engine loads. Not applied (and said so by
 * {@link Outcome}) off Linux, without glibc (musl has no such thresholds; a preloaded jemalloc or
 * tcmalloc leaves glibc's malloc unused), when the environment already sets glibc's malloc
 * thresholds ({@code GLIBC_TUNABLES} with {@code glibc.malloc.mmap_threshold} or
 * {@code glibc.malloc.trim_threshold}, {@code MALLOC_MMAP_THRESHOLD_}, {@code MALLOC_TRIM_THRESHOLD_}),
 * or when the property is {@code false}.
 */
public final class NativeAllocator {

    /** glibc's largest dynamic mmap threshold on 64-bit ({@code DEFAULT_MMAP_THRESHOLD_MAX}). */
    public static final int MMAP_THRESHOLD_BYTES = 32 << 20;
    /** Twice {@link #MMAP_THRESHOLD_BYTES}, glibc's own ratio when its threshold moves. */
    public static final int TRIM_THRESHOLD_BYTES = 64 << 20;
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;

    /** What {@link #retainFreedMemory} did. */
    public enum Outcome {
        /** glibc's thresholds are set. */
        APPLIED("glibc malloc keeps freed blocks below " + (MMAP_THRESHOLD_BYTES >> 20) + " MiB for reuse"),
        /** {@link BackendProvider#RETAIN_FREED_MEMORY_PROPERTY} is {@code false}. */
        DISABLED("left as it is (" + BackendProvider.RETAIN_FREED_MEMORY_PROPERTY + "=false)"),
        /** The environment sets glibc's malloc thresholds itself. */
        ENVIRONMENT("left to the environment's malloc settings"),
        /** Not Linux with glibc, or the C library could not be reached. */
        UNAVAILABLE("left as it is (no glibc mallopt here)");

        private final String description;

        Outcome(String description) {
            this.description = description;
        }

        /** @return a phrase for a log line, e.g. {@code "left as it is (no glibc mallopt here)"} */
        public String description() {
            return description;
        }
    }

    private NativeAllocator() {
    }

    /**
     * Applies the policy unless the property, the platform or the environment rules it out.
     *
     * @return what was done
     * @throws IllegalStateException naming the property when its value is neither {@code true} nor {@code false}
     */
    public static synchronized Outcome retainFreedMemory() {
        return retainFreedMemory(System.getProperty(BackendProvider.RETAIN_FREED_MEMORY_PROPERTY), System.getenv());
    }

    static Outcome retainFreedMemory(String property, Map<String, String> environment) {
        if (property != null && !property.isBlank()) {
            String value = property.trim().toLowerCase(Locale.ROOT);
            if (value.equals("false")) {
                return Outcome.DISABLED;
            }
            if (!value.equals("true")) {
                throw new IllegalStateException(BackendProvider.RETAIN_FREED_MEMORY_PROPERTY
                        + ": must be true or false, got '" + property + "'");
            }
        }
        if (environmentSetsThresholds(environment)) {
            return Outcome.ENVIRONMENT;
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return Outcome.UNAVAILABLE;
        }
        try {
            Function.getFunction("c", "gnu_get_libc_version"); // glibc only
            Function mallopt = Function.getFunction("c", "mallopt");
            boolean set = mallopt.invokeInt(new Object[] {M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES}) == 1
                    & mallopt.invokeInt(new Object[] {M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES}) == 1;
            return set ? Outcome.APPLIED : Outcome.UNAVAILABLE;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return Outcome.UNAVAILABLE;
        }
    }

    /**
     * @param environment a process environment, e.g. {@code System.getenv()}
     * @return whether it sets glibc's malloc thresholds itself ({@code GLIBC_TUNABLES} with
     *     {@code glibc.malloc.mmap_threshold} or {@code glibc.malloc.trim_threshold},
     *     {@code MALLOC_MMAP_THRESHOLD_}, {@code MALLOC_TRIM_THRESHOLD_}), which the policy then leaves as they are
     */
    public static boolean environmentSetsThresholds(Map<String, String> environment) {
        String tunables = environment.getOrDefault("GLIBC_TUNABLES", "");
        return tunables.contains("glibc.malloc.mmap_threshold") || tunables.contains("glibc.malloc.trim_threshold")
                || environment.containsKey("MALLOC_MMAP_THRESHOLD_") || environment.containsKey("MALLOC_TRIM_THRESHOLD_");
    }

    /**
     * glibc's count of bytes in blocks it has mapped on their own ({@code mallinfo2().hblkhd}): blocks
     * at or above the mmap threshold, so that a block's effect on it shows which side of the
     * threshold it fell on (used to check that the policy is in force).
     *
     * @return the bytes, or -1 where there is no glibc 2.33 or later
     */
    public static long mappedBytes() {
        try {
            return ((MallInfo2) Function.getFunction("c", "mallinfo2").invoke(MallInfo2.class, new Object[0])).hblkhd;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return -1;
        }
    }

    /** glibc's {@code struct mallinfo2}: ten {@code size_t} fields. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost"})
    public static final class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;
    }
}
