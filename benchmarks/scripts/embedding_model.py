"""The embedding text classifier of EmbeddingTracIn.java and EmbeddingEmpiricalFisher.java, shared by
embedding_tracin_captum.py and embedding_ef_pydvl.py: a 30,000 x 64 table, 32 token ids a sample drawn from a
Zipf law (weight 1/(v+1)), mean over the tokens, Linear 64->32, tanh, Linear 32->10, float32."""
import numpy as np
import torch
import torch.nn as nn

VOCABULARY, DIM, TOKENS = 30000, 64, 32


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCABULARY, DIM)
        self.fc1 = nn.Linear(DIM, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, ids):
        return self.fc2(torch.tanh(self.fc1(self.emb(ids).mean(1))))


def workload(n):
    """Seeds torch (0) and returns n samples' ids (numpy seed 7), their labels i mod 10 and the model."""
    torch.manual_seed(0)
    weights = 1.0 / np.arange(1, VOCABULARY + 1)
    ids = torch.tensor(np.random.default_rng(7).choice(VOCABULARY, size=(n, TOKENS), p=weights / weights.sum()))
    return ids, torch.arange(n) % 10, Classifier()
