/**
 * End-to-end tests of influence4j on the real default backend: exact influences against closed
 * forms, fidelity against leave-one-out retraining, Guice wiring, and the README quick start.
 */
package org.influence4j.it;
