"""ResLT head: three residual branches on the last feature map, one shared classifier, the branch logits summed
(Cui et al., "ResLT: Residual Learning for Long-tailed Recognition", TPAMI 2022).

Official code (MIT; re-implemented from its maths, nothing copied): jiequancui/ResLT@9650d932
``CIFAR/networks/resnet_cifar.py`` (``ResLTResNet32``: three BatchNorm2d on the last map), and
``ImageNetLT/networks/reslt_imagenet.py`` (``ResNet_ResLT``: ``finalBlock``, a 1x1 convolution to three times the
channels, BatchNorm, ReLU; lines 142-146 and 196-231); the fusion is ``logitH + logitM + logitT`` in every
training and test loop.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from ..losses.base import check_choice, fill_loss_num_classes
from ..losses.reslt_loss import NUM_BRANCHES, ResLTLoss
from .tau_norm_cls_head import tau_normalize

EXPANDS = ('bn', 'conv1x1')


@register_into('MODELS', scopes=('mmpretrain',))
class ResLTHead(ClsHead):
    """The ResLT classifier: from the backbone's last feature map ``f`` (N, D, H, W; the config has no neck), three
    branch features ``h_b`` (D each), one shared ``fc`` (D -> C) giving the branch logits ``z^b = fc(h_b)``, and the
    prediction ``z = z^0 + z^1 + z^2`` (main, medium+tail and tail branch; ``ResLTLoss`` trains each branch on its
    class group and the sum on every class).

    Branch features (``expand``):

    - ``'bn'`` (the official CIFAR ``ResLTResNet32``): ``h_b = GAP(BN_b(f))`` with three BatchNorm2d of their own
      (affine parameters and running statistics), in training and at test.
    - ``'conv1x1'`` (the official ImageNet-LT / iNaturalist ``ResNet_ResLT``): ``g = ReLU(BN(conv1x1(.)))`` with
      3D output channels (no conv bias), cut into three contiguous chunks of D, ``h_b`` the b-th. With
      ``after_1x1conv=True`` (every official script passes ``--after_1x1conv``) training computes ``GAP(g(f))`` but
      prediction computes ``g(GAP(f))``: ReLU and pooling do not commute, and the BatchNorm statistics gathered on
      the 7x7 maps normalise pooled features at test. This is the official code's behaviour, reproduced on purpose.
      ``after_1x1conv=False`` pools first in both.

    Classifier (``test_gamma``): training uses ``W h + b``. Prediction uses the same with ``test_gamma=None`` (the
    official CIFAR model), or ``(w_c / |w_c|^gamma) . h`` with **no bias** for a number ``gamma`` (the official
    ImageNet-LT / iNaturalist model in eval mode: ``--gamma 0.7`` on ImageNet-LT ResNeXt-50, 0.3 on iNaturalist).

    ``loss`` computes the training path; ``predict`` the prediction path, whatever the module's mode (the BatchNorm
    layers still normalise with batch statistics in train mode and running statistics in eval mode, as in the
    official code, where the model's mode also picks the path); ``forward`` returns the fused training-path logits
    (N, C), as ``TauNormClsHead``.

    Deviations from the official code:

    - the prediction path is chosen by ``predict`` / ``loss``, not by ``model.eval()``;
    - a zero class vector stays zero under the gamma-normalisation (its norm is clamped to 1e-12; official: NaN);
    - the official ``--dropout`` option (off in every script) is not implemented.

    Args:
        num_classes: ``C``.
        in_channels: ``D``, the channels of the backbone's last feature map (64 for the CIFAR ResNet-32, 2048 for
            ResNet-50 / ResNeXt-50).
        loss: a ``ResLTLoss`` config (required); its ``num_classes`` is filled in from the head's.
        expand: ``'bn'`` or ``'conv1x1'``, see above. Default ``'bn'``.
        after_1x1conv: with ``'conv1x1'``, apply the 1x1 block before pooling in training. Default True (every
            official ImageNet-LT / iNaturalist script).
        test_gamma: None (prediction with ``W h + b``, the official CIFAR model) or the exponent of the
            normalisation of the class vectors at prediction, bias dropped. Default None; the official ImageNet-LT
            ResNeXt-50 uses 0.7 (``ImageNetLT/sh/X50.sh``).
        init_cfg: mmengine init config; None keeps the official initialisation: PyTorch's defaults for ``fc`` and
            the BatchNorm layers, Kaiming-normal (fan-out, ReLU) for the 1x1 convolution.
        **kwargs: ``topk``, ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, loss: dict, expand: str = 'bn',
                 after_1x1conv: bool = True, test_gamma: Optional[float] = None, init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **fill_loss_num_classes(dict(kwargs, loss=loss), num_classes,
                                                                     type(self).__name__))
        if not isinstance(self.loss_module, ResLTLoss):
            raise TypeError(f'ResLTHead needs a ResLTLoss (it takes the (N, 3, C) branch logits), got '
                            f'{type(self.loss_module).__name__}')
        if num_classes <= 0 or in_channels <= 0:
            raise ValueError(f'ResLTHead: num_classes ({num_classes}) and in_channels ({in_channels}) must be positive')
        if self.loss_module.num_classes != num_classes:
            raise ValueError(f'ResLTHead: num_classes={num_classes} but the loss has {self.loss_module.num_classes}')
        check_choice('expand', expand, EXPANDS)
        if test_gamma is not None and not test_gamma >= 0:
            raise ValueError(f'ResLTHead: test_gamma must be None or >= 0, got {test_gamma}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.expand = expand
        self.after_1x1conv = after_1x1conv
        self.test_gamma = None if test_gamma is None else float(test_gamma)
        if expand == 'bn':
            self.branch_norms = nn.ModuleList(nn.BatchNorm2d(in_channels) for _ in range(NUM_BRANCHES))
        else:
            conv = nn.Conv2d(in_channels, NUM_BRANCHES * in_channels, 1, bias=False)
            nn.init.kaiming_normal_(conv.weight, mode='fan_out', nonlinearity='relu')
            self.final_block = nn.Sequential(conv, nn.BatchNorm2d(NUM_BRANCHES * in_channels), nn.ReLU(inplace=True))
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The backbone's last feature map, checked to be (N, in_channels, H, W)."""
        x = feats[-1]
        if x.dim() != 4 or x.size(1) != self.in_channels:
            raise ValueError(f'ResLTHead expects the unpooled feature map (N, in_channels={self.in_channels}, H, W) '
                             f'(a config without neck), got {tuple(x.shape)}')
        return x

    def branch_features(self, feats: Tuple[torch.Tensor], predict: bool = False) -> torch.Tensor:
        """The three branch features (N, 3, D), on the prediction path when ``predict`` (see the class docstring)."""
        x = self.pre_logits(feats)
        if self.expand == 'bn':
            return torch.stack([norm(x).mean(dim=(2, 3)) for norm in self.branch_norms], dim=1)
        if self.after_1x1conv and not predict:
            y = self.final_block(x).mean(dim=(2, 3))
        else:
            y = self.final_block(x.mean(dim=(2, 3), keepdim=True)).flatten(1)
        return y.view(y.size(0), NUM_BRANCHES, self.in_channels)

    def branch_logits(self, feats: Tuple[torch.Tensor], predict: bool = False) -> torch.Tensor:
        """The logits of every branch (N, 3, C), on the prediction path when ``predict``."""
        h = self.branch_features(feats, predict)
        if predict and self.test_gamma is not None:
            return F.linear(h, tau_normalize(self.fc.weight, self.test_gamma))
        return self.fc(h)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The fused training-path logits (N, C)."""
        return self.branch_logits(feats).sum(dim=1)

    def predict_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The fused prediction-path logits (N, C)."""
        return self.branch_logits(feats, predict=True).sum(dim=1)

    def predict(self, feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        return self._get_predictions(self.predict_logits(feats), data_samples)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> dict:
        if 'gt_score' in data_samples[0]:
            target = torch.stack([sample.gt_score for sample in data_samples])
        else:
            target = torch.cat([sample.gt_label for sample in data_samples])
        logits = self.branch_logits(feats)
        losses = {'loss': self.loss_module(logits, target, **kwargs)}
        if self.cal_acc:
            if target.dim() != 1:
                raise ValueError('ResLTHead: cal_acc needs hard labels (a batch augmentation gave soft targets)')
            acc = Accuracy.calculate(logits.detach().sum(dim=1), target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
