"""Training stage: the seed's MNIST MLP, trained reproducibly and saved as checkpoints/mlp.pt."""
