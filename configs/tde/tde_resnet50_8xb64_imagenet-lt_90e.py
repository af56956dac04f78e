# De-confound-TDE (Tang et al., NeurIPS 2020): the causal-norm classifier (2 heads, tau 16, gamma 1/32) trained with
# cross-entropy, its moving-average feature direction in a buffer (all-reduced across GPUs; momentum 0.9 scaled by
# the lr as the official, TDEMomentumHook), and the TDE subtraction with alpha 3.0 at test.
# ResNet-50 on ImageNet-LT with the recipe of the official ResNeXt-50 run (config/ImageNet_LT/causal_norm.yaml; no
# official ResNet-50 run): batch 512 (8 GPUs x 64), SGD lr 0.2, wd 5e-4, cosine, 90 epochs, floor(N / B) steps per
# epoch. tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(_delete_=True, type='CausalNormClsHead', num_classes=1000, in_channels=2048, alpha=3.0))
train_dataloader = dict(drop_last=True)
custom_hooks = [dict(type='TDEMomentumHook')]
