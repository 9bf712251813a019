package org.influence4j.registry;

import java.util.concurrent.atomic.AtomicInteger;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;

/** Backend providers registered in the test {@code META-INF/services} file. */
public final class TestBackendProviders {

    private TestBackendProviders() {
    }

    /** Name of the working test backend. */
    static final String WORKING = "test-backend";
    /** Name of the provider whose natives "cannot load". */
    static final String FAILING = "failing-natives";
    /** Name of the provider that reports itself unavailable. */
    static final String UNAVAILABLE = "unavailable-backend";

    /** Counts create() calls per instance. */
    abstract static class Counting implements BackendProvider {
        final AtomicInteger creates = new AtomicInteger();
    }

    /** Works; rank 50, so it is the best only because the better ranked ones fail. */
    public static class Working extends Counting {
        @Override
        public String name() {
            return WORKING;
        }

        @Override
        public int rank() {
            return 50;
        }

        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public Backend create() {
            creates.incrementAndGet();
            return new TestBackend(WORKING);
        }
    }

    /** Available, best ranked, but create() throws as a backend without its native library does. */
    public static final class FailingNatives extends Counting {
        static final String MESSAGE = "UnsatisfiedLinkError: libfake_engine.so: cannot open shared object file";

        @Override
        public String name() {
            return FAILING;
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public Backend create() {
            creates.incrementAndGet();
            throw new IllegalStateException(MESSAGE);
        }
    }

    /** Reports isAvailable() = false; create() must never be called. */
    public static final class Unavailable extends Counting {
        @Override
        public String name() {
            return UNAVAILABLE;
        }

        @Override
        public int rank() {
            return 1;
        }

        @Override
        public boolean isAvailable() {
            return false;
        }

        @Override
        public Backend create() {
            creates.incrementAndGet();
            throw new AssertionError("create() of an unavailable provider must not be called");
        }
    }

    /** Its constructor throws: listed only in the broken services file of a test. */
    public static final class ThrowingConstructor extends Working {
        public ThrowingConstructor() {
            throw new IllegalStateException("constructor failure for the test");
        }
    }
}
