package org.influence4j.calculators.chunked;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** Delegates to a sink and throws on the n-th accepted block, like a process killed half-way. */
final class FailingSink implements ChunkSink {

    private final ChunkSink delegate;
    private final int failAt;
    private final AtomicInteger accepted = new AtomicInteger();

    FailingSink(ChunkSink delegate, int failAt) {
        this.delegate = delegate;
        this.failAt = failAt;
    }

    @Override
    public void open(ChunkLayout layout) {
        delegate.open(layout);
    }

    @Override
    public boolean isComplete(ChunkIndex index) {
        return delegate.isComplete(index);
    }

    @Override
    public void accept(Chunk chunk) {
        if (accepted.incrementAndGet() >= failAt) {
            throw new IllegalStateException("disk full (simulated crash)");
        }
        delegate.accept(chunk);
    }

    @Override
    public Optional<RemoteWriter> remoteWriter() {
        return Optional.empty();
    }
}
