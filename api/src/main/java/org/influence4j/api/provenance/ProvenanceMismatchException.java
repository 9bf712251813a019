package org.influence4j.api.provenance;

import java.util.List;

/**
 * Results of different runs were about to be combined: a resumed store, a reused cache or a set of
 * checkpoints whose provenance identities differ. Nothing was combined. The message names what, every
 * differing field, and how to start afresh; {@link #mismatch()} is the message without the remedy, so
 * a caller (the command line) can give its own ({@code --overwrite}).
 */
public class ProvenanceMismatchException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final String what;
    private final List<String> differences;

    /**
     * @param what        what was about to be combined, e.g. {@code "the Zarr store x.zarr"}
     * @param differences the differing fields, as phrases ({@link Provenance#differences})
     */
    public ProvenanceMismatchException(String what, List<String> differences) {
        this(what, differences, "delete it or write to another place to start afresh");
    }

    /**
     * @param remedy how to start afresh, e.g. {@code "rerun with --overwrite to start afresh"}
     */
    public ProvenanceMismatchException(String what, List<String> differences, String remedy) {
        super(what + " holds the result of another run: " + String.join("; ", differences) + "; " + remedy);
        this.what = what;
        this.differences = List.copyOf(differences);
    }

    /** @return what was about to be combined */
    public String what() {
        return what;
    }

    /** @return the differing identity fields, one phrase each */
    public List<String> differences() {
        return differences;
    }

    /** @return the same mismatch with another remedy in its message */
    public ProvenanceMismatchException withRemedy(String remedy) {
        ProvenanceMismatchException e = new ProvenanceMismatchException(what, differences, remedy);
        e.initCause(this);
        return e;
    }
}
