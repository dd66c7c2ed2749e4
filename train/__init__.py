"""Training stage: an MNIST model (the MLP by default, a CNN, or a class you name), trained
reproducibly and saved as checkpoints/<model>.pt.

The reference recipe this stage keeps: MLP fc1 -> ReLU -> fc2; torchvision MNIST with ToTensor +
Normalize((0.5,), (0.5,)); DataLoader; CrossEntropyLoss; Adam at lr 1e-3; batch 64.
"""
