# MiSLAS stage 1 (Zhong et al., CVPR 2021; dvlab-research/MiSLAS config/cifar100/cifar100_imb001_stage1_mixup.yaml):
# ResNet-32 on CIFAR-100-LT (imbalance factor 100) with input mixup (alpha 1.0: one lambda ~ Beta(1, 1) and one
# pairing per batch) and softmax cross-entropy on the mixed labels, instance-balanced sampling. One GPU x 128, SGD
# lr 0.1, momentum 0.9, weight decay 2e-4, 200 epochs: linear warm-up over epochs 0-4, x0.1 from epoch 160, x0.01
# from 180 (train_stage1.py adjust_learning_rate, cos: False). Its last checkpoint is what stage 2 loads.
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(use_soft=True)), train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
# the warm-up of the LDAM-DRW recipe; MiSLAS then steps by x0.1 (LDAM-DRW: x0.01)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[160, 180], gamma=0.1, by_epoch=True, begin=0, end=200),
]
