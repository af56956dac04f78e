# The CIFAR-LT ResNet-32 of LDAM-DRW (Cao et al., NeurIPS 2019; kaidic/LDAM-DRW models/resnet_cifar.py): 3 stages of
# 5 basic blocks, 16/32/64 channels, option-A (zero-padded identity) shortcuts, 0.46M parameters, a 64-d feature.
# ltmm's `ResNet32CIFAR` (mmpretrain's ResNet_CIFAR is the 4-stage 64..512-channel ImageNet ResNet with a 3x3 stem).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet32CIFAR'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
