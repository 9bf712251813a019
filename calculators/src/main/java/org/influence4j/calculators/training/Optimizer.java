package org.influence4j.calculators.training;

/**
 * The update rule of the {@link MinibatchTrainer}, with PyTorch's conventions.
 */
public sealed interface Optimizer permits Optimizer.Sgd, Optimizer.Adam {

    /** @return the base learning rate */
    double learningRate();

    /**
     * Stochastic gradient descent with heavy-ball momentum as {@code torch.optim.SGD}:
     * {@code v ← μ v + g; θ ← θ − η v} (plain SGD when μ = 0).
     *
     * @param learningRate η &gt; 0
     * @param momentum     μ in [0, 1)
     */
    record Sgd(double learningRate, double momentum) implements Optimizer {
        /** @throws IllegalArgumentException naming the argument out of range */
        public Sgd {
            requirePositive(learningRate);
            if (!(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("momentum: must be in [0, 1), got " + momentum);
            }
        }
    }

    /**
     * Adam as {@code torch.optim.Adam} (bias-corrected moments).
     *
     * @param learningRate η &gt; 0
     * @param beta1        first-moment decay in [0, 1)
     * @param beta2        second-moment decay in [0, 1)
     * @param epsilon      denominator guard &gt; 0
     */
    record Adam(double learningRate, double beta1, double beta2, double epsilon) implements Optimizer {
        /** @throws IllegalArgumentException naming the argument out of range */
        public Adam {
            requirePositive(learningRate);
            if (!(beta1 >= 0 && beta1 < 1)) {
                throw new IllegalArgumentException("beta1: must be in [0, 1), got " + beta1);
            }
            if (!(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("beta2: must be in [0, 1), got " + beta2);
            }
            if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
                throw new IllegalArgumentException("epsilon: must be finite and > 0, got " + epsilon);
            }
        }
    }

    /** @return plain SGD */
    static Optimizer sgd(double learningRate) {
        return new Sgd(learningRate, 0);
    }

    /** @return SGD with momentum */
    static Optimizer sgd(double learningRate, double momentum) {
        return new Sgd(learningRate, momentum);
    }

    /** @return Adam with β = (0.9, 0.999), ε = 1e-8 */
    static Optimizer adam(double learningRate) {
        return new Adam(learningRate, 0.9, 0.999, 1e-8);
    }

    private static void requirePositive(double learningRate) {
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate: must be finite and > 0, got " + learningRate);
        }
    }
}
