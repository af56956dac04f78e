# NCL's CIFAR network (Li et al., CVPR 2022; Bazinga699/NCL config/CIFAR/CIFAR100/cifar100_im100_NCL.yaml,
# lib/net/network.py multi_Network): 3 completely separate LDAM-DRW ResNet-32s (nothing shared), each with global
# average pooling and its own nn.Linear(64, C) with bias; NCLLoss (NIL_NBOD: balanced CE + hard category mining
# HCM_N 30, NBOD factor 0.6 on the full and on the hard-category distributions). The prediction is the mean of the
# raw expert logits. The configs of this folder add the data, class_stats and the schedule.
model = dict(
    type='NCLClassifier',
    backbone=dict(type='ResNet32CIFAR'),
    num_experts=3,
    num_classes=100,
    in_channels=64,
    classifier='linear',
    loss=dict(type='NCLLoss', hcm_n=30, factor=0.6, factor_hcm=0.6))
