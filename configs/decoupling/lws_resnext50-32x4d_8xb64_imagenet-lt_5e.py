# Decoupling, stage 2, learnable weight scaling (LWS; Kang et al., ICLR 2020, classifier-balancing
# config/ImageNet_LT/cls_lws.yaml): the stage-1 backbone and classifier (weight and bias) are loaded and frozen; one
# scale per class (initialised to 1) is learned for 5 epochs with class-aware sampling, SGD lr 0.2 (batch 512),
# cosine to 0. BatchNorm mode as in ./crt_resnext50-32x4d_8xb64_imagenet-lt_10e.py.
_base_ = './crt_resnext50-32x4d_8xb64_imagenet-lt_10e.py'
model = dict(head=dict(type='LWSClsHead'))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=False)]
max_epochs = 5
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
