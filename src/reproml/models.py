"""The three models of the course, from a linear baseline to a small CNN.

Every model takes normalised images of shape (batch, 1, 28, 28) and returns class logits of
shape (batch, 10). Hydra builds one from its configuration (``conf/model/*.yaml``:
``_target_: reproml.models.CNN`` and its parameters) through ``reproml.parts.build_part``.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

IMAGE_SIZE = 28
NUM_CLASSES = 10


class LogisticRegression(nn.Module):
    """One linear layer on the raw pixels: the baseline every other model must beat."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(IMAGE_SIZE * IMAGE_SIZE, NUM_CLASSES))

    def forward(self, x):
        return self.net(x)


class MLP(nn.Module):
    """Fully connected layers with ReLU and dropout."""

    def __init__(self, hidden_sizes: Sequence[int] = (256, 128), dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = IMAGE_SIZE * IMAGE_SIZE
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, NUM_CLASSES))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    """Convolution blocks (3x3 conv, batch norm, ReLU, 2x2 max-pool), then two linear layers.

    Each block halves the image: 28 -> 14 -> 7 with the default two blocks.
    """

    def __init__(
        self, channels: Sequence[int] = (32, 64), hidden: int = 128, dropout: float = 0.25
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        in_channels, size = 1, IMAGE_SIZE
        for out_channels in channels:
            blocks += [
                nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            in_channels, size = out_channels, size // 2
        self.features = nn.Sequential(*blocks)  # (batch, channels[-1], size, size)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(in_channels * size * size, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, NUM_CLASSES),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
