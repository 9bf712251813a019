/**
 * End-to-end tests of influence4j on every available backend ({@link org.influence4j.it.AvailableBackends}):
 * the attribution contract of every method, exact influences against closed forms, cross-backend
 * parity, fidelity against leave-one-out retraining, Guice wiring, the README quick start and
 * {@code docs/ARCHITECTURE.md} against the source tree.
 */
package org.influence4j.it;
