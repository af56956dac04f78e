# Balanced BCE (LiVT, Xu et al., CVPR 2023): sigmoid BCE on z + log(pi / (1 - pi)), with LiVT's
# Mixup 0.8 / CutMix 1.0 and label smoothing 0.1 (LiVT builds Bal-BCE only with mixup).
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnet50_8xb64_imagenet-lt_90e.py with this method.
# tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='BalancedBCELoss', class_stats={{_base_.class_stats}},
                        label_smoothing=0.1)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
