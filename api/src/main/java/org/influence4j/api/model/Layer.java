package org.influence4j.api.model;

/**
 * One layer of a sequential {@link ModelSpec}: a {@link Dense} affine map or an elementwise
 * {@link Act activation}.
 */
public sealed interface Layer permits Layer.Dense, Layer.Act {

    /**
     * An affine layer {@code z = W x + b} with {@code W} of shape {@code [outFeatures, inFeatures]}
     * (row-major) and {@code b} of shape {@code [outFeatures]}; parameters are stored weight first.
     *
     * @param inFeatures  input width (must equal the previous layer's output width)
     * @param outFeatures output width
     */
    record Dense(int inFeatures, int outFeatures) implements Layer {
        public Dense {
            if (inFeatures <= 0 || outFeatures <= 0) {
                throw new IllegalArgumentException("dense layer: inFeatures and outFeatures must be positive, got "
                        + inFeatures + " and " + outFeatures);
            }
        }

        /** @return number of parameters {@code out*in + out} */
        public long numParameters() {
            return (long) outFeatures * inFeatures + outFeatures;
        }
    }

    /** An elementwise activation; it keeps the width. */
    record Act(Activation activation) implements Layer {
        public Act {
            if (activation == null) {
                throw new IllegalArgumentException("activation layer: activation must not be null");
            }
        }
    }
}
