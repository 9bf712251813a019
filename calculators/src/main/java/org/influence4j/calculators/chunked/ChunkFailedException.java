package org.influence4j.calculators.chunked;

/**
 * A block of a chunked computation failed. Blocks stored before the failure stay stored; rerunning
 * with the same on-disk sink computes only the missing blocks.
 */
public final class ChunkFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient ChunkIndex index;

    /**
     * @param index the failed block
     * @param cause what went wrong
     */
    public ChunkFailedException(ChunkIndex index, Throwable cause) {
        super("chunk " + index + " failed: " + cause + "; finished chunks are kept — rerun with the same sink to "
                + "compute only the missing ones", cause);
        this.index = index;
    }

    /** @return the failed block */
    public ChunkIndex index() {
        return index;
    }
}
