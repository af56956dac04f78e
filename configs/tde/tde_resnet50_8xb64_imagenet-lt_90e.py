# De-confound-TDE (Tang et al., NeurIPS 2020) on ResNet-50, ImageNet-LT: the ResNeXt-50 recipe of
# tde_resnext50-32x4d_8xb64_imagenet-lt_90e.py (official config/ImageNet_LT/causal_norm.yaml) on the ResNet-50 of
# configs/baseline/resnet50_8xb64_imagenet-lt_90e.py (no official ResNet-50 run). tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(_delete_=True, type='CausalNormClsHead', num_classes=1000, in_channels=2048, alpha=3.0))
train_dataloader = dict(drop_last=True)
custom_hooks = [dict(type='TDEMomentumHook')]
